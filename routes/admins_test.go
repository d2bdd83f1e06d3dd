package routes_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/policy"
	"ticketportal/testapp"
)

// adminStored checks that an agent account with the user name exists, has
// role admin, is verified and takes the password.
func adminStored(userName, password string) func(testing.TB, *tests.TestApp, []byte) {
	return func(t testing.TB, app *tests.TestApp, _ []byte) {
		t.Helper()
		a, err := app.FindFirstRecordByData(policy.Admins, "userName", userName)
		if err != nil {
			t.Fatalf("admin %s not stored: %v", userName, err)
		}
		if a.GetString("role") != policy.RoleAdmin || !a.Verified() || !a.ValidatePassword(password) {
			t.Errorf("admin %s: role %q verified %v password ok %v", userName, a.GetString("role"), a.Verified(), a.ValidatePassword(password))
		}
	}
}

// adminCount checks how many accounts of role admin exist.
func adminCount(want int) func(testing.TB, *tests.TestApp, []byte) {
	return func(t testing.TB, app *tests.TestApp, _ []byte) {
		t.Helper()
		n, err := app.CountRecords(policy.Admins, dbx.HashExp{"role": policy.RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		if int(n) != want {
			t.Errorf("%d admins, want %d", n, want)
		}
	}
}

func TestCreateAdmin(t *testing.T) {
	body := `{"email":"dave@example.com","userName":"dave","password":"a-long-password"}`
	created := callerWant{status: 201,
		content: []string{`"message":`, `"data":{`, `"email":"dave@example.com"`, `"userName":"dave"`, `"role":"admin"`, `"verified":true`},
		events:  map[string]int{"OnRecordCreate": 1},
		check:   all(adminStored("dave", "a-long-password"), adminCount(3))}
	refused := func(w callerWant) callerWant { w.check = adminCount(2); return w }
	asCallers(t, "creates an admin", "POST", "/createAdmin", body, nil, testapp.Merge(
		testapp.Each(refused(unauthorized), outsiders...), testapp.Each(refused(forbidden), append(customers, agents...)...), testapp.Each(created, heads...),
	))
}

func TestCreateAdminBody(t *testing.T) {
	cases := []struct {
		name, body string
		status     int
		content    string
	}{
		{"with the longest password", `{"email":"dave@example.com","userName":"dave","password":"` + strings.Repeat("p", 72) + `"}`, 201, `"userName":"dave"`},
		{"with the shortest user name and password", `{"email":"dave@example.com","userName":"d.v","password":"12345678"}`, 201, `"userName":"d.v"`},
		{"with nothing", `{}`, 400, `"email":{"code":"validation_required"`},
		{"with a malformed email", `{"email":"dave@","userName":"dave","password":"a-long-password"}`, 400, `"email":{"code":"validation_is_email"`},
		{"with a short user name", `{"email":"dave@example.com","userName":"dv","password":"a-long-password"}`, 400, `"userName":{"code":"validation_length_out_of_range"`},
		{"with a long user name", `{"email":"dave@example.com","userName":"` + strings.Repeat("d", 51) + `","password":"a-long-password"}`, 400, `"userName":{"code":"validation_length_out_of_range"`},
		{"with a space in the user name", `{"email":"dave@example.com","userName":"da ve","password":"a-long-password"}`, 400, `"userName":{"code":"validation_match_invalid"`},
		{"with a short password", `{"email":"dave@example.com","userName":"dave","password":"1234567"}`, 400, `"password":{"code":"validation_length_out_of_range"`},
		{"with a password over 72 characters", `{"email":"dave@example.com","userName":"dave","password":"` + strings.Repeat("p", 73) + `"}`, 400, `"password":{"code":"validation_length_out_of_range"`},
		{"with a role", `{"email":"dave@example.com","userName":"dave","password":"a-long-password","role":"superAdmin"}`, 400, `"role":{"code":"validation_unknown_field"`},
		{"with a taken email", `{"email":"agent1@example.com","userName":"dave","password":"a-long-password"}`, 409, `"email":{"code":"validation_not_unique"`},
		{"with a taken email in other case", `{"email":"Agent1@Example.com","userName":"dave","password":"a-long-password"}`, 409, `"email":{"code":"validation_not_unique"`},
		{"with a taken user name in other case", `{"email":"dave@example.com","userName":"AGENT2","password":"a-long-password"}`, 409, `"userName":{"code":"validation_not_unique"`},
		{"with a customer's user name", `{"email":"dave@example.com","userName":"alice","password":"a-long-password"}`, 409, `This userName is already taken.`},
		{"with a customer's email", `{"email":"bob@example.com","userName":"dave","password":"a-long-password"}`, 409, `This email is already taken.`},
	}
	// errors may name the password field; a hash never appears
	noHashes := []string{`"tokenKey"`, `$2a$`, `sqlite`, `SELECT `, `.go:`}
	for _, c := range cases {
		check := adminCount(2)
		if c.status == 201 {
			check = adminCount(3)
		}
		(&tests.ApiScenario{
			Name:               "superAdmin creates an admin " + c.name,
			Method:             "POST",
			URL:                "/createAdmin",
			Body:               strings.NewReader(c.body),
			Headers:            testapp.Headers(t, testapp.SuperAdmin),
			ExpectedStatus:     c.status,
			ExpectedContent:    []string{c.content},
			NotExpectedContent: noHashes,
			TestAppFactory:     testapp.Factory,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				check(t, app, nil)
			},
		}).Test(t)
	}
}

func TestDeleteAdmin(t *testing.T) {
	deleted := callerWant{status: 200, content: []string{`"message":`},
		events: map[string]int{"OnRecordDelete": 1},
		check:  all(gone(policy.Admins, testapp.AdminId), adminCount(1))}
	kept := func(w callerWant) callerWant { w.check = adminCount(2); return w }
	refusals := testapp.Merge(testapp.Each(kept(unauthorized), outsiders...), testapp.Each(kept(forbidden), append(customers, agents...)...))

	asCallers(t, "deletes an admin named in the body", "DELETE", "/deleteAdmin", `{"adminId":"`+testapp.AdminId+`"}`, nil,
		testapp.Merge(refusals, testapp.Each(deleted, heads...)))
	asCallers(t, "deletes an admin named in the query", "DELETE", "/deleteAdmin?adminId="+testapp.AdminId, "", nil,
		testapp.Merge(refusals, testapp.Each(deleted, heads...)))

	superAdminKept := callerWant{status: 403, content: []string{`"status":403`, `superAdmin`}, events: noWrites,
		check: func(t testing.TB, app *tests.TestApp, _ []byte) {
			if _, err := app.FindRecordById(policy.Admins, testapp.SuperAdminId); err != nil {
				t.Error("the superAdmin is gone")
			}
		}}
	asCallers(t, "deletes a superAdmin", "DELETE", "/deleteAdmin", `{"adminId":"`+testapp.SuperAdminId+`"}`, nil,
		testapp.Merge(refusals, testapp.Each(superAdminKept, heads...)))
	asCallers(t, "deletes an unknown admin", "DELETE", "/deleteAdmin?adminId=admin9999999999", "", nil,
		testapp.Merge(refusals, testapp.Each(kept(notFound), heads...)))
	asCallers(t, "deletes a customer as an admin", "DELETE", "/deleteAdmin", `{"adminId":"`+testapp.CustomerId+`"}`, nil,
		testapp.Merge(refusals, testapp.Each(kept(notFound), heads...)))
	missing := callerWant{status: 400, content: []string{`"adminId":{"code":"validation_required"`}, events: noWrites}
	asCallers(t, "deletes without naming an admin", "DELETE", "/deleteAdmin", "", nil,
		testapp.Merge(refusals, testapp.Each(missing, heads...)))
	wrongType := callerWant{status: 400, content: []string{`"adminId":{"code":"validation_invalid_type"`}, events: noWrites}
	asCallers(t, "deletes with an adminId that is not a string", "DELETE", "/deleteAdmin", `{"adminId":["`+testapp.AdminId+`"]}`, nil,
		testapp.Merge(refusals, testapp.Each(wrongType, heads...)))
}

// A deleted admin's tokens stop working, and the tickets it held are free
// for the rest of the team.
func TestDeletedAdminIsLockedOut(t *testing.T) {
	app := testapp.New(t)
	base := testapp.Serve(t, app)
	agent2 := testapp.Token(t, "other admin")

	if status, raw := call(t, "GET", base+"/getAllActiveTickets", agent2, ""); status != 200 {
		t.Fatalf("before: %d %s", status, raw)
	}
	if status, raw := call(t, "DELETE", base+"/deleteAdmin", testapp.Token(t, testapp.SuperAdmin), `{"adminId":"`+testapp.OtherAdminId+`"}`); status != 200 {
		t.Fatalf("delete: %d %s", status, raw)
	}
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/getAllActiveTickets", ""},
		{"PATCH", "/markTicketStatus/" + testapp.TicketId, takeBody},
		{"PATCH", "/sendAnswerOnTicket/" + testapp.TicketId, `{"answer":"I am gone."}`},
		{"GET", "/api/collections/tickets/records", ""},
	} {
		status, raw := call(t, r.method, base+r.path, agent2, r.body)
		if r.path == "/api/collections/tickets/records" {
			if status != 200 || !strings.Contains(string(raw), `"totalItems":0`) {
				t.Errorf("record API with a deleted admin's token: %d %s", status, raw)
			}
			continue
		}
		if status != 401 {
			t.Errorf("%s %s with a deleted admin's token: %d, want 401", r.method, r.path, status)
		}
	}
	ticket, err := app.FindRecordById(policy.Tickets, testapp.TakenTicketId)
	if err != nil {
		t.Fatal(err)
	}
	if ticket.GetString("takenBy") != "" || ticket.GetBool("isTaken") {
		t.Errorf("the deleted admin still holds %s", ticket.Id)
	}
	if status, raw := call(t, "PATCH", base+"/markTicketStatus/"+testapp.TakenTicketId, testapp.Token(t, testapp.Admin), takeBody); status != 200 {
		t.Errorf("agent1 takes the released ticket: %d %s", status, raw)
	}
	if n := answersOf(t, app, testapp.TakenTicketId); n != 1 {
		t.Errorf("the deleted admin's answer is gone (%d answers)", n)
	}
}

func TestGetAllAdmins(t *testing.T) {
	team := callerWant{status: 200,
		content: []string{`"email":"agent1@example.com"`, `"email":"agent2@example.com"`, `"role":"admin"`},
		absent:  []string{`"boss"`, `operator@example.com`},
		check:   listIs([]string{testapp.AdminId, testapp.OtherAdminId}, 2, 1)}
	asCallers(t, "lists the admins", "GET", "/getAllAdmins", "", nil, testapp.Merge(
		gate(append(customers, agents...)...), testapp.Each(team, heads...),
	))
}

func TestGetAllAdminsPages(t *testing.T) {
	before := func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
		for _, name := range []string{"Zed", "carl", "Bea", "adam", "mia", "Ola", "ned", "lee", "kim", "jo.e", "ivy", "hal"} {
			newAdmin(t, app, name)
		}
	}
	// 14 admins A to Z, ignoring case: adam agent1 agent2 Bea carl hal ivy jo.e kim lee mia ned Ola Zed
	cases := []struct {
		query   string
		names   []string
		pages   int
		content string
	}{
		{"", []string{"adam", "agent1", "agent2", "Bea", "carl", "hal", "ivy", "jo.e", "kim", "lee"}, 2, `"page":1`},
		{"?page=3&limit=5", []string{"mia", "ned", "Ola", "Zed"}, 3, `"page":3`},
		{"?page=2&limit=500", []string{}, 1, `"data":[]`},
	}
	for _, c := range cases {
		c := c
		(&tests.ApiScenario{
			Name:               "superAdmin lists the admins " + c.query,
			Method:             "GET",
			URL:                "/getAllAdmins" + c.query,
			Headers:            testapp.Headers(t, testapp.SuperAdmin),
			ExpectedStatus:     200,
			ExpectedContent:    []string{c.content, `"totalNumOfItems":14`},
			NotExpectedContent: acctLeaks,
			TestAppFactory:     testapp.Factory,
			BeforeTestFunc:     before,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				b := decodeList(t, readAll(t, res))
				var names []string
				for _, d := range b.Data {
					names = append(names, d["userName"].(string))
				}
				if strings.Join(names, ",") != strings.Join(c.names, ",") || b.NumOfPages != c.pages {
					t.Errorf("names %v pages %d, want %v %d", names, b.NumOfPages, c.names, c.pages)
				}
			},
		}).Test(t)
	}
	(&tests.ApiScenario{
		Name:               "superAdmin lists the admins with a bad limit",
		Method:             "GET",
		URL:                "/getAllAdmins?limit=-3",
		Headers:            testapp.Headers(t, testapp.SuperAdmin),
		ExpectedStatus:     400,
		ExpectedContent:    []string{`"limit":{"code":"validation_invalid_limit"`},
		NotExpectedContent: acctLeaks,
		TestAppFactory:     testapp.Factory,
	}).Test(t)
}
