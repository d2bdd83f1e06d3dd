package policy_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/policy"
	"ticketportal/testapp"
)

// want is what one kind of caller gets back.
type want struct {
	status  int
	content []string
	absent  []string
	check   func(t testing.TB, app *tests.TestApp)
	events  map[string]int // nil: expectedEvents decides from the method and status
}

// scenario runs one request as every caller kind named in expect.
func scenario(t *testing.T, name, method, url, body string, expect map[string]want) {
	t.Helper()
	for _, kind := range append(append([]string{}, testapp.Callers...), testapp.Unverified, "other admin") {
		w, ok := expect[kind]
		if !ok {
			continue
		}
		s := tests.ApiScenario{
			Name:               kind + " " + name,
			Method:             method,
			URL:                url,
			Headers:            testapp.Headers(t, kind),
			ExpectedStatus:     w.status,
			ExpectedContent:    w.content,
			NotExpectedContent: append([]string{`"password"`, `"tokenKey"`, `$2a$`}, w.absent...),
			TestAppFactory:     testapp.Factory,
		}
		if body != "" {
			s.Body = strings.NewReader(body)
		}
		if len(s.ExpectedContent) == 0 && w.status != http.StatusNoContent {
			s.ExpectedContent = []string{"{"}
		}
		if w.check != nil {
			check := w.check
			s.AfterTestFunc = func(t testing.TB, app *tests.TestApp, _ *http.Response) { check(t, app) }
		}
		s.ExpectedEvents = expectedEvents(method, url, w)
		s.Test(t)
	}
}

// expectedEvents is what a scenario must fire: a refused request reaches no
// request hook and writes nothing; an accepted one runs exactly one request
// hook of its kind (and, for a write, commits it).
func expectedEvents(method, url string, w want) map[string]int {
	if w.events != nil {
		return w.events
	}
	if w.status == http.StatusBadRequest { // refused by validation after the request hook
		return map[string]int{"OnRecordAfterCreateSuccess": 0, "OnRecordAfterUpdateSuccess": 0, "OnRecordAfterDeleteSuccess": 0}
	}
	if w.status >= 400 {
		return map[string]int{
			"OnRecordsListRequest": 0, "OnRecordViewRequest": 0, "OnRecordCreateRequest": 0,
			"OnRecordUpdateRequest": 0, "OnRecordDeleteRequest": 0,
			"OnRecordAfterCreateSuccess": 0, "OnRecordAfterUpdateSuccess": 0, "OnRecordAfterDeleteSuccess": 0,
		}
	}
	path, _, _ := strings.Cut(url, "?")
	switch {
	case path == "/api/batch":
		return map[string]int{"OnBatchRequest": 1}
	case method == http.MethodGet && strings.HasSuffix(path, "/records"):
		return map[string]int{"OnRecordsListRequest": 1, "OnRecordCreate": 0, "OnRecordUpdate": 0, "OnRecordDelete": 0}
	case method == http.MethodGet:
		return map[string]int{"OnRecordViewRequest": 1, "OnRecordCreate": 0, "OnRecordUpdate": 0, "OnRecordDelete": 0}
	case method == http.MethodPost:
		return map[string]int{"OnRecordCreateRequest": 1, "OnRecordDelete": 0}
	case method == http.MethodPatch:
		return map[string]int{"OnRecordUpdateRequest": 1, "OnRecordDelete": 0}
	case method == http.MethodDelete:
		return map[string]int{"OnRecordDeleteRequest": 1, "OnRecordCreateRequest": 0} // cascades delete more records
	}
	return nil
}

var (
	outsiders  = []string{testapp.Anonymous, testapp.Forged}
	customers  = []string{testapp.Owner, testapp.OtherCustomer}
	staff      = []string{testapp.Admin, testapp.SuperAdmin}
	everyone   = testapp.Callers
	denied403  = want{status: 403, content: []string{`"status":403`}}
	hidden404  = want{status: 404, content: []string{`"status":404`}}
	refused400 = want{status: 400, content: []string{`"status":400`}}
	noContent  = want{status: 204}
)

func total(n string) want { return want{status: 200, content: []string{`"totalItems":` + n}} }

// field asserts a stored field value after the request.
func field(collection, id, name, value string) func(testing.TB, *tests.TestApp) {
	return func(t testing.TB, app *tests.TestApp) {
		r, err := app.FindRecordById(collection, id)
		if err != nil {
			t.Fatalf("%s %s: %v", collection, id, err)
		}
		if got := r.GetString(name); got != value {
			t.Fatalf("%s.%s = %q, want %q", collection, name, got, value)
		}
	}
}

// exists asserts whether a record is still stored.
func exists(collection, id string, want bool) func(testing.TB, *tests.TestApp) {
	return func(t testing.TB, app *tests.TestApp) {
		_, err := app.FindRecordById(collection, id)
		if (err == nil) != want {
			t.Fatalf("%s %s present=%v, want %v", collection, id, err == nil, want)
		}
	}
}

func withCheck(w want, check func(testing.TB, *tests.TestApp)) want { w.check = check; return w }

func TestUsersRecordAPI(t *testing.T) {
	const base = "/api/collections/users/records"
	alice := base + "/" + testapp.CustomerId

	scenario(t, "lists customers", "GET", base, "", testapp.Merge(
		testapp.Each(total("0"), outsiders...),
		testapp.Each(total("0"), staff...),
		map[string]want{
			testapp.Owner:         {status: 200, content: []string{`"totalItems":1`, `"userName":"alice"`, `"email":"alice@example.com"`}, absent: []string{`"bob"`}},
			testapp.OtherCustomer: {status: 200, content: []string{`"totalItems":1`, `"userName":"bob"`}, absent: []string{`"alice"`}},
			testapp.Operator:      total("3"),
		}))

	scenario(t, "views alice's account", "GET", alice, "", testapp.Merge(
		testapp.Each(hidden404, outsiders...), testapp.Each(hidden404, staff...),
		map[string]want{
			testapp.Owner:         {status: 200, content: []string{`"role":"user"`, `"isVerified":true`, `"userFirstName":"Alice"`}},
			testapp.OtherCustomer: hidden404,
			testapp.Operator:      {status: 200, content: []string{`"userName":"alice"`}},
		}))

	scenario(t, "creates a customer directly", "POST", base,
		`{"email":"new@example.com","userName":"newbie","password":"12345678","passwordConfirm":"12345678","userFirstName":"N","userLastName":"B","mobileNumber":"123456"}`,
		testapp.Merge(testapp.Each(denied403, everyone...), map[string]want{testapp.Operator: {status: 200, content: []string{`"userName":"newbie"`}}}))

	scenario(t, "edits alice's first name", "PATCH", alice, `{"userFirstName":"Ally"}`, testapp.Merge(
		testapp.Each(withCheck(hidden404, field("users", testapp.CustomerId, "userFirstName", "Alice")), everyone...),
		map[string]want{
			testapp.Owner:    withCheck(want{status: 200, content: []string{`"userFirstName":"Ally"`}}, field("users", testapp.CustomerId, "userFirstName", "Ally")),
			testapp.Operator: {status: 200, content: []string{`"userFirstName":"Ally"`}},
		}))

	scenario(t, "marks alice verified", "PATCH", "/api/collections/users/records/"+testapp.UnverifiedId, `{"verified":true}`, map[string]want{
		testapp.Unverified: withCheck(hidden404, field("users", testapp.UnverifiedId, "verified", "false")),
		testapp.Owner:      hidden404,
	})

	scenario(t, "changes alice's email without confirmation", "PATCH", alice, `{"email":"evil@example.com"}`, map[string]want{
		testapp.Owner: withCheck(refused400, field("users", testapp.CustomerId, "email", "alice@example.com")),
	})

	scenario(t, "changes alice's password without the old one", "PATCH", alice, `{"password":"new-password-1","passwordConfirm":"new-password-1"}`, map[string]want{
		testapp.Owner: refused400,
	})

	scenario(t, "deletes alice's account", "DELETE", alice, "", testapp.Merge(
		testapp.Each(withCheck(denied403, exists("users", testapp.CustomerId, true)), everyone...),
		map[string]want{testapp.Operator: withCheck(noContent, exists("tickets", testapp.TicketId, false))}))
}

func TestAdminsRecordAPI(t *testing.T) {
	const base = "/api/collections/admins/records"
	agent1 := base + "/" + testapp.AdminId
	boss := base + "/" + testapp.SuperAdminId

	scenario(t, "lists agents", "GET", base, "", testapp.Merge(
		testapp.Each(total("0"), outsiders...), testapp.Each(total("0"), customers...),
		map[string]want{
			testapp.Admin:      {status: 200, content: []string{`"totalItems":3`, `"userName":"agent2"`, `"role":"superAdmin"`}, absent: []string{`agent2@example.com`}},
			testapp.SuperAdmin: total("3"),
			testapp.Operator:   total("3"),
		}))

	scenario(t, "views agent1", "GET", agent1, "", testapp.Merge(
		testapp.Each(hidden404, outsiders...), testapp.Each(hidden404, customers...),
		testapp.Each(want{status: 200, content: []string{`"userName":"agent1"`}}, staff...),
		map[string]want{testapp.Operator: {status: 200, content: []string{`"email":"agent1@example.com"`}}}))

	newAgent := `{"email":"agent9@example.com","userName":"agent9","password":"12345678","passwordConfirm":"12345678","role":"admin"}`
	scenario(t, "creates an agent", "POST", base, newAgent, testapp.Merge(
		testapp.Each(refused400, outsiders...), testapp.Each(refused400, customers...),
		map[string]want{
			testapp.Admin:      refused400,
			testapp.SuperAdmin: {status: 200, content: []string{`"role":"admin"`, `"userName":"agent9"`}},
			testapp.Operator:   {status: 200, content: []string{`"role":"admin"`}},
		}))

	scenario(t, "creates another superAdmin", "POST", base,
		`{"email":"boss2@example.com","userName":"boss2","password":"12345678","passwordConfirm":"12345678","role":"superAdmin"}`,
		map[string]want{testapp.SuperAdmin: refused400, testapp.Admin: refused400, testapp.Operator: {status: 200, content: []string{`"role":"superAdmin"`}}})

	scenario(t, "raises agent1 to superAdmin", "PATCH", agent1, `{"role":"superAdmin"}`, testapp.Merge(
		testapp.Each(withCheck(hidden404, field("admins", testapp.AdminId, "role", "admin")), everyone...),
		map[string]want{testapp.Operator: {status: 200, content: []string{`"role":"superAdmin"`}}}))

	scenario(t, "renames agent1", "PATCH", agent1, `{"userName":"agent1b"}`, testapp.Merge(
		testapp.Each(hidden404, everyone...),
		map[string]want{
			testapp.Admin:    {status: 200, content: []string{`"userName":"agent1b"`}},
			testapp.Operator: {status: 200, content: []string{`"userName":"agent1b"`}},
		}))

	scenario(t, "takes a customer's user name", "PATCH", agent1, `{"userName":"ALICE"}`, map[string]want{
		testapp.Admin: {status: 409, content: []string{`"message":"That user name is already taken."`, `"userName":{"code":"validation_not_unique"`}},
	})

	scenario(t, "deletes agent1", "DELETE", agent1, "", testapp.Merge(
		testapp.Each(withCheck(hidden404, exists("admins", testapp.AdminId, true)), everyone...),
		map[string]want{
			testapp.SuperAdmin: withCheck(noContent, exists("admins", testapp.AdminId, false)),
			testapp.Operator:   noContent,
		}))

	scenario(t, "deletes agent2, who holds a ticket", "DELETE", base+"/"+testapp.OtherAdminId, "", map[string]want{
		testapp.SuperAdmin: withCheck(noContent, func(t testing.TB, app *tests.TestApp) {
			field("tickets", testapp.TakenTicketId, "takenBy", "")(t, app)
			field("tickets", testapp.TakenTicketId, "isTaken", "false")(t, app)
		}),
	})

	scenario(t, "deletes the superAdmin", "DELETE", boss, "", testapp.Merge(
		testapp.Each(withCheck(hidden404, exists("admins", testapp.SuperAdminId, true)), everyone...),
		map[string]want{testapp.Operator: noContent}))
}

func TestTicketsRecordAPI(t *testing.T) {
	const base = "/api/collections/tickets/records"
	ticket := base + "/" + testapp.TicketId
	closed := base + "/" + testapp.ClosedTicketId
	taken := base + "/" + testapp.TakenTicketId

	scenario(t, "lists tickets", "GET", base+"?sort=createdAt", "", testapp.Merge(
		testapp.Each(total("0"), outsiders...),
		map[string]want{
			testapp.Owner:         {status: 200, content: []string{`"totalItems":3`, `"ticketAnswers":[{"id":"` + testapp.AnswerId}, absent: []string{testapp.OtherTicketId}},
			testapp.OtherCustomer: {status: 200, content: []string{`"totalItems":1`, testapp.OtherTicketId}},
			testapp.Admin:         {status: 200, content: []string{`"totalItems":3`}, absent: []string{testapp.ClosedTicketId}},
			testapp.SuperAdmin:    total("4"),
			testapp.Operator:      total("4"),
		}))

	scenario(t, "views alice's active ticket", "GET", ticket, "", testapp.Merge(
		testapp.Each(hidden404, outsiders...),
		testapp.Each(want{status: 200, content: []string{`"ticketAnswers":[]`, `"ticketStatus":"active"`, `"userEmail":"alice@example.com"`}}, testapp.Owner, testapp.Admin, testapp.SuperAdmin, testapp.Operator),
		map[string]want{testapp.OtherCustomer: hidden404}))

	scenario(t, "views alice's closed ticket", "GET", closed, "", testapp.Merge(
		testapp.Each(hidden404, outsiders...),
		testapp.Each(want{status: 200, content: []string{`"ticketStatus":"closed"`}}, testapp.Owner, testapp.SuperAdmin, testapp.Operator),
		map[string]want{testapp.OtherCustomer: hidden404, testapp.Admin: hidden404}))

	create := `{"customerId":"` + testapp.CustomerId + `","ticketContent":"Where is my order?"}`
	scenario(t, "sends a ticket in alice's name", "POST", base, create, testapp.Merge(
		testapp.Each(refused400, everyone...),
		map[string]want{
			testapp.Owner:      {status: 200, content: []string{`"ticketStatus":"active"`, `"customerUserName":"alice"`, `"userEmail":"alice@example.com"`, `"isTaken":false`, `"ticketAnswers":[]`}},
			testapp.Unverified: refused400,
			testapp.Operator:   {status: 200, content: []string{`"ticketStatus":"active"`}},
		}))

	for _, extra := range []string{`"ticketStatus":"closed"`, `"isHighPriority":true`, `"takenBy":"` + testapp.AdminId + `"`, `"userEmail":"x@example.com"`, `"isTaken":true`} {
		scenario(t, "sends a ticket setting "+extra, "POST", base,
			`{"customerId":"`+testapp.CustomerId+`","ticketContent":"Hi",`+extra+`}`,
			map[string]want{testapp.Owner: refused400})
	}

	scenario(t, "closes alice's ticket", "PATCH", ticket, `{"ticketStatus":"closed"}`, testapp.Merge(
		testapp.Each(withCheck(hidden404, field("tickets", testapp.TicketId, "ticketStatus", "active")), everyone...),
		testapp.Each(withCheck(want{status: 200, content: []string{`"ticketStatus":"closed"`}}, field("tickets", testapp.TicketId, "ticketStatus", "closed")), staff...),
		map[string]want{testapp.Operator: {status: 200, content: []string{`"ticketStatus":"closed"`}}}))

	scenario(t, "rewrites a ticket's content", "PATCH", ticket, `{"ticketContent":"changed"}`, testapp.Merge(
		testapp.Each(withCheck(hidden404, field("tickets", testapp.TicketId, "ticketContent", "How do I export my data?")), everyone...),
		map[string]want{testapp.Operator: {status: 200, content: []string{`"ticketContent":"changed"`}}}))

	scenario(t, "flags a ticket high priority", "PATCH", ticket, `{"isHighPriority":true}`, testapp.Merge(
		testapp.Each(withCheck(hidden404, field("tickets", testapp.TicketId, "isHighPriority", "false")), everyone...),
		map[string]want{
			testapp.SuperAdmin: {status: 200, content: []string{`"isHighPriority":true`}},
			testapp.Operator:   {status: 200, content: []string{`"isHighPriority":true`}},
		}))

	scenario(t, "takes a free ticket", "PATCH", ticket, `{"takenBy":"`+testapp.AdminId+`"}`, testapp.Merge(
		testapp.Each(hidden404, everyone...),
		map[string]want{
			testapp.Admin:    withCheck(want{status: 200, content: []string{`"isTaken":true`, `"takenBy":"` + testapp.AdminId + `"`}}, field("tickets", testapp.TicketId, "isTaken", "true")),
			testapp.Operator: {status: 200, content: []string{`"isTaken":true`}},
		}))

	scenario(t, "takes a ticket another agent holds", "PATCH", taken, `{"takenBy":"`+testapp.AdminId+`"}`, map[string]want{
		testapp.Admin: withCheck(hidden404, field("tickets", testapp.TakenTicketId, "takenBy", testapp.OtherAdminId)),
	})

	scenario(t, "reopens a closed ticket", "PATCH", closed, `{"ticketStatus":"active"}`, testapp.Merge(
		testapp.Each(withCheck(hidden404, field("tickets", testapp.ClosedTicketId, "ticketStatus", "closed")), testapp.Owner, testapp.Admin, testapp.SuperAdmin)))

	scenario(t, "deletes alice's ticket", "DELETE", ticket, "", testapp.Merge(
		testapp.Each(withCheck(hidden404, exists("tickets", testapp.TicketId, true)), everyone...),
		map[string]want{
			testapp.SuperAdmin: withCheck(noContent, exists("tickets", testapp.TicketId, false)),
			testapp.Operator:   noContent,
		}))

	scenario(t, "deletes a ticket with its answers", "DELETE", taken, "", map[string]want{
		testapp.SuperAdmin: withCheck(noContent, exists(policy.Messages, testapp.AnswerId, false)),
	})
}

func TestMessagesRecordAPI(t *testing.T) {
	const base = "/api/collections/messages/records"
	answer := base + "/" + testapp.AnswerId

	scenario(t, "lists messages", "GET", base, "", testapp.Merge(
		testapp.Each(total("0"), outsiders...),
		testapp.Each(total("1"), testapp.Owner, testapp.Admin, testapp.SuperAdmin, testapp.Operator),
		map[string]want{testapp.OtherCustomer: total("0")}))

	scenario(t, "views an answer on alice's ticket", "GET", answer, "", testapp.Merge(
		testapp.Each(hidden404, outsiders...),
		testapp.Each(want{status: 200, content: []string{`"body":"Please reinstall the app."`}}, testapp.Owner, testapp.Admin, testapp.SuperAdmin, testapp.Operator),
		map[string]want{testapp.OtherCustomer: hidden404}))

	answerAs := func(ticket, admin string) string {
		return `{"ticket":"` + ticket + `","kind":"answer","body":"We are on it.","authorId":"` + admin + `"}`
	}
	scenario(t, "answers alice's ticket", "POST", base, answerAs(testapp.TicketId, testapp.AdminId), testapp.Merge(
		testapp.Each(refused400, everyone...),
		map[string]want{
			testapp.Admin:    withCheck(want{status: 200, content: []string{`"body":"We are on it."`, `"authorName":"agent1"`}}, ticketHasAnswers(testapp.TicketId, 1)),
			testapp.Operator: {status: 200, content: []string{`"authorId":"` + testapp.AdminId + `"`}},
		}))

	scenario(t, "answers in another agent's name", "POST", base, answerAs(testapp.TicketId, testapp.OtherAdminId), map[string]want{
		testapp.Admin: withCheck(refused400, ticketHasAnswers(testapp.TicketId, 0)),
	})

	scenario(t, "answers a closed ticket", "POST", base, answerAs(testapp.ClosedTicketId, testapp.SuperAdminId), map[string]want{
		testapp.SuperAdmin: withCheck(refused400, ticketHasAnswers(testapp.ClosedTicketId, 0)),
	})

	scenario(t, "edits a message", "PATCH", answer, `{"body":"changed"}`, testapp.Merge(
		testapp.Each(denied403, everyone...),
		map[string]want{testapp.Operator: {status: 200, content: []string{`"body":"changed"`}}}))

	scenario(t, "deletes a message", "DELETE", answer, "", testapp.Merge(
		testapp.Each(withCheck(denied403, exists(policy.Messages, testapp.AnswerId, true)), everyone...),
		map[string]want{testapp.Operator: noContent}))
}

func ticketHasAnswers(ticketId string, n int) func(testing.TB, *tests.TestApp) {
	return func(t testing.TB, app *tests.TestApp) {
		got, err := app.CountRecords(policy.Messages)
		if err != nil {
			t.Fatal(err)
		}
		all, _ := app.FindAllRecords(policy.Messages)
		count := 0
		for _, a := range all {
			if a.GetString("ticket") == ticketId {
				count++
			}
		}
		if count != n {
			t.Fatalf("ticket %s has %d answers (of %d in all), want %d", ticketId, count, got, n)
		}
	}
}

func TestBatchAPI(t *testing.T) {
	batch := func(reqs string) string { return `{"requests":[` + reqs + `]}` }
	createFor := func(customer string) string {
		return `{"method":"POST","url":"/api/collections/tickets/records","body":{"customerId":"` + customer + `","ticketContent":"batched"}}`
	}
	scenario(t, "batch-creates a ticket in another customer's name", "POST", "/api/batch", batch(createFor(testapp.OtherCustomerId)), map[string]want{
		testapp.Owner:     refused400,
		testapp.Anonymous: refused400,
	})
	scenario(t, "batch-creates own tickets", "POST", "/api/batch", batch(createFor(testapp.CustomerId)+","+createFor(testapp.CustomerId)), map[string]want{
		testapp.Owner: {status: 200, content: []string{`"status":200`, `"customerUserName":"alice"`}},
	})
	closeAndDelete := `{"method":"PATCH","url":"/api/collections/tickets/records/` + testapp.TicketId + `","body":{"ticketContent":"rewritten"}}`
	scenario(t, "batch-rewrites a ticket", "POST", "/api/batch", batch(closeAndDelete), map[string]want{
		testapp.Owner: withCheck(refused400, field("tickets", testapp.TicketId, "ticketContent", "How do I export my data?")),
		testapp.Admin: withCheck(refused400, field("tickets", testapp.TicketId, "ticketContent", "How do I export my data?")),
	})
	del := `{"method":"DELETE","url":"/api/collections/tickets/records/` + testapp.TicketId + `"}`
	scenario(t, "batch-deletes a ticket", "POST", "/api/batch", batch(del), map[string]want{
		testapp.Admin:      withCheck(refused400, exists("tickets", testapp.TicketId, true)),
		testapp.Owner:      withCheck(refused400, exists("tickets", testapp.TicketId, true)),
		testapp.SuperAdmin: withCheck(want{status: 200, content: []string{`"status":204`}}, exists("tickets", testapp.TicketId, false)),
	})
}
