package routes_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/policy"
	"ticketportal/testapp"
)

// The races of the integrity invariants (docs/integrity.md), each run
// integrityTries times against a real server. Every race is widened on
// purpose: the writer that must lose sleeps after PocketBase's own checks
// (validation, rules, the route's reads) and before its write, while the
// other side commits. A check made outside the write's transaction lets the
// write through in every try; only the database's triggers refuse it.

const integrityTries = 20

// raceWindow is how long the slow side waits before its write. The fast
// side starts a lead after it that grows with the try, from 0 to 1.5 times
// the window: early tries have the fast side commit first (or even before
// the slow one is authenticated), late ones let the slow write commit first.
const raceWindow = 60 * time.Millisecond

func raceLead(try int) time.Duration {
	return time.Duration(try) * raceWindow * 3 / (2 * integrityTries)
}

// integrityApp is a served test app without PocketBase's throttle (the
// tries come from one address in quick succession).
func integrityApp(t *testing.T) *tests.TestApp {
	t.Helper()
	app := testapp.New(t)
	s := app.Settings()
	s.RateLimits.Enabled = false
	if err := app.Save(s); err != nil {
		t.Fatal(err)
	}
	return app
}

// slowExecute makes the DB write of every create (and update) of the
// collections wait d after validation, outside any transaction of its own.
func slowExecute(app core.App, d time.Duration, updates bool, collections ...string) {
	app.OnRecordCreateExecute(collections...).BindFunc(func(e *core.RecordEvent) error { time.Sleep(d); return e.Next() })
	if updates {
		app.OnRecordUpdateExecute(collections...).BindFunc(func(e *core.RecordEvent) error { time.Sleep(d); return e.Next() })
	}
}

// slowRoute makes the requests to paths starting with prefix wait d after
// their caller is authenticated and before the route runs.
func slowRoute(app core.App, prefix string, d time.Duration) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.BindFunc(func(e *core.RequestEvent) error {
			if strings.HasPrefix(e.Request.URL.Path, prefix) {
				time.Sleep(d)
			}
			return e.Next()
		})
		return se.Next()
	})
}

// newCustomer stores a verified customer and returns its id and a token.
func newCustomer(t testing.TB, app core.App, userName string) (string, string) {
	t.Helper()
	col, err := app.FindCollectionByNameOrId(policy.Users)
	if err != nil {
		t.Fatal(err)
	}
	r := core.NewRecord(col)
	r.Set("userName", userName)
	r.Set("userFirstName", "Race")
	r.Set("userLastName", "Runner")
	r.Set("mobileNumber", "+1 555 0199")
	r.SetEmail(userName + "@example.com")
	r.SetPassword(testapp.Password)
	r.SetVerified(true)
	if err := app.Save(r); err != nil {
		t.Fatalf("new customer %s: %v", userName, err)
	}
	token, err := r.NewAuthToken()
	if err != nil {
		t.Fatal(err)
	}
	return r.Id, token
}

// pair runs slow and fast at once, fast starting raceLead(try) later, and
// returns their statuses and bodies.
func racePair(t *testing.T, try int, slow, fast func() (int, []byte)) (int, []byte, int, []byte) {
	t.Helper()
	statuses, bodies := race(t, 2, func(i int) (int, []byte) {
		if i == 0 {
			return slow()
		}
		time.Sleep(raceLead(try))
		return fast()
	})
	return statuses[0], bodies[0], statuses[1], bodies[1]
}

// sane fails on a 5xx or an answer that leaks SQL.
func sane(t *testing.T, what string, status int, body []byte) {
	t.Helper()
	low := strings.ToLower(string(body))
	if status >= 500 || strings.Contains(low, "sqlite") || strings.Contains(low, "constraint") || strings.Contains(low, "integrity:") {
		t.Errorf("%s: %d %s", what, status, body)
	}
}

func sqlCount(t testing.TB, app core.App, query string) int {
	t.Helper()
	var n int
	if err := app.DB().NewQuery(query).Row(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

const (
	orphanTickets = `SELECT COUNT(*) FROM tickets WHERE customerId NOT IN (SELECT id FROM users)`
	orphanAnswers = `SELECT COUNT(*) FROM messages WHERE ticket NOT IN (SELECT id FROM tickets)`
	ghostHolders  = `SELECT COUNT(*) FROM tickets WHERE takenBy != '' AND ticketStatus = 'active'
		AND takenBy NOT IN (SELECT id FROM admins) AND takenBy NOT IN (SELECT id FROM _superusers)`
	sharedNames = `SELECT COUNT(*) FROM users u JOIN admins a ON u.userName = a.userName COLLATE NOCASE OR u.email = a.email COLLATE NOCASE`
)

func TestIntegrityRaceDeleteCustomerVsSendTicket(t *testing.T) {
	app := integrityApp(t)
	slowExecute(app, raceWindow, false, policy.Tickets)
	base := testapp.Serve(t, app)
	operator := testapp.Token(t, testapp.Operator)
	created := 0
	tally := map[int]int{}
	for i := range integrityTries {
		id, token := newCustomer(t, app, fmt.Sprintf("sender%02d", i))
		sendS, sendB, delS, delB := racePair(t, i,
			func() (int, []byte) {
				return call(t, "POST", base+"/sendTicket", token, `{"ticketContent":"Racing my own deletion."}`)
			},
			func() (int, []byte) {
				return call(t, "DELETE", base+"/api/collections/users/records/"+id, operator, "")
			})
		sane(t, "sendTicket", sendS, sendB)
		tally[sendS]++
		if delS != http.StatusNoContent {
			t.Fatalf("delete customer: %d %s", delS, delB)
		}
		// 201 before the delete, 400 naming customerId after it, 401 if
		// the request was authenticated after it
		if sendS == http.StatusCreated {
			created++
		} else if sendS != http.StatusUnauthorized && (sendS != http.StatusBadRequest || !strings.Contains(string(sendB), `"customerId":{"code":"validation_missing_rel_records"`)) {
			t.Errorf("sendTicket of a deleted customer: %d %s", sendS, sendB)
		}
	}
	t.Logf("statuses of the slow side over %d tries: %v", integrityTries, tally)
	if n := sqlCount(t, app, orphanTickets); n != 0 {
		t.Fatalf("%d of %d tries left a ticket whose customer does not exist", n, integrityTries)
	}
	t.Logf("%d tries: %d tickets stored before the delete (and deleted with it), 0 orphans", integrityTries, created)
}

func TestIntegrityRaceDeleteCustomerVsRecordApiTicket(t *testing.T) {
	app := integrityApp(t)
	slowExecute(app, raceWindow, false, policy.Tickets)
	base := testapp.Serve(t, app)
	operator := testapp.Token(t, testapp.Operator)
	tally := map[int]int{}
	for i := range integrityTries {
		id, token := newCustomer(t, app, fmt.Sprintf("apisender%02d", i))
		createS, createB, delS, delB := racePair(t, i,
			func() (int, []byte) {
				return call(t, "POST", base+"/api/collections/tickets/records", token,
					`{"customerId":"`+id+`","ticketContent":"Racing my own deletion."}`)
			},
			func() (int, []byte) {
				return call(t, "DELETE", base+"/api/collections/users/records/"+id, operator, "")
			})
		sane(t, "record API create", createS, createB)
		tally[createS]++
		if delS != http.StatusNoContent {
			t.Fatalf("delete customer: %d %s", delS, delB)
		}
		if createS != http.StatusOK && createS != http.StatusUnauthorized && createS != http.StatusForbidden && createS != http.StatusBadRequest {
			t.Errorf("record API ticket of a deleted customer: %d %s", createS, createB)
		}
	}
	t.Logf("statuses of the slow side over %d tries: %v", integrityTries, tally)
	if n := sqlCount(t, app, orphanTickets); n != 0 {
		t.Fatalf("%d of %d tries left a ticket whose customer does not exist", n, integrityTries)
	}
}

func TestIntegrityRaceDeleteAgentVsTake(t *testing.T) {
	app := integrityApp(t)
	slowRoute(app, "/markTicketStatus/", raceWindow)
	base := testapp.Serve(t, app)
	boss := testapp.Token(t, testapp.SuperAdmin)
	taken := 0
	tally := map[int]int{}
	for i := range integrityTries {
		agentId, token := newAdmin(t, app, fmt.Sprintf("taker%02d", i))
		ticketId := newTicket(t, app, testapp.CustomerId, "Take me.", time.Now(), nil)
		takeS, takeB, delS, delB := racePair(t, i,
			func() (int, []byte) {
				return call(t, "PATCH", base+"/markTicketStatus/"+ticketId, token, `{"status":"markAsTaken"}`)
			},
			func() (int, []byte) {
				return call(t, "DELETE", base+"/deleteAdmin", boss, `{"adminId":"`+agentId+`"}`)
			})
		sane(t, "take", takeS, takeB)
		tally[takeS]++
		if delS != http.StatusOK {
			t.Fatalf("delete agent: %d %s", delS, delB)
		}
		switch takeS {
		case http.StatusOK:
			taken++
		case http.StatusUnauthorized:
		default:
			t.Errorf("take by a deleted agent: %d %s", takeS, takeB)
		}
		ticket, err := app.FindRecordById(policy.Tickets, ticketId)
		if err != nil {
			t.Fatal(err)
		}
		if ticket.GetString("takenBy") != "" || ticket.GetBool("isTaken") {
			t.Errorf("try %d: the ticket is held by %q (isTaken %v) after its holder was deleted", i, ticket.GetString("takenBy"), ticket.GetBool("isTaken"))
		}
	}
	t.Logf("statuses of the slow side over %d tries: %v", integrityTries, tally)
	if n := sqlCount(t, app, ghostHolders); n != 0 {
		t.Fatalf("%d active tickets are held by an agent that does not exist", n)
	}
	t.Logf("%d tries: %d takes won before the delete (then freed), the rest refused", integrityTries, taken)
}

func TestIntegrityRaceRecordApiAnswerVsTicketDelete(t *testing.T) {
	app := integrityApp(t)
	slowExecute(app, raceWindow, false, policy.Messages)
	base := testapp.Serve(t, app)
	agent := testapp.Token(t, testapp.Admin)
	boss := testapp.Token(t, testapp.SuperAdmin)
	tally := map[int]int{}
	for i := range integrityTries {
		ticketId := newTicket(t, app, testapp.CustomerId, fmt.Sprintf("Answer me %d.", i), time.Now(), nil)
		ansS, ansB, delS, delB := racePair(t, i,
			func() (int, []byte) {
				return call(t, "POST", base+"/api/collections/messages/records", agent,
					`{"ticket":"`+ticketId+`","kind":"answer","body":"Racing the delete.","authorId":"`+testapp.AdminId+`"}`)
			},
			func() (int, []byte) {
				return call(t, "DELETE", base+"/deleteSpecificTicket/"+ticketId, boss, "")
			})
		sane(t, "answer", ansS, ansB)
		tally[ansS]++
		if delS != http.StatusOK {
			t.Fatalf("delete ticket: %d %s", delS, delB)
		}
		if ansS != http.StatusOK && ansS != http.StatusBadRequest && ansS != http.StatusNotFound {
			t.Errorf("answer on a deleted ticket: %d %s", ansS, ansB)
		}
	}
	t.Logf("statuses of the slow side over %d tries: %v", integrityTries, tally)
	if n := sqlCount(t, app, orphanAnswers); n != 0 {
		t.Fatalf("%d answers of %d tries belong to no ticket", n, integrityTries)
	}
}

func TestIntegrityRaceSignUpVsCreateAdmin(t *testing.T) {
	app := integrityApp(t)
	slowExecute(app, raceWindow, false, policy.Users)
	base := testapp.Serve(t, app)
	boss := testapp.Token(t, testapp.SuperAdmin)
	both := 0
	tally := map[int]int{}
	for i := range integrityTries {
		name := fmt.Sprintf("twin%02d", i)
		// one try in two uses the same name in another case and the same email in another case
		adminName, adminEmail := name, name+"@example.com"
		if i%2 == 1 {
			adminName, adminEmail = strings.ToUpper(name), strings.ToUpper(name)+"@EXAMPLE.COM"
		}
		upS, upB, adS, adB := racePair(t, i,
			func() (int, []byte) {
				return call(t, "POST", base+"/signUp", "", `{"email":"`+name+`@example.com","userName":"`+name+`","password":"a-long-password",`+
					`"confirmPassword":"a-long-password","userFirstName":"Twin","userLastName":"One","mobileNumber":"+1 555 0123"}`)
			},
			func() (int, []byte) {
				return call(t, "POST", base+"/createAdmin", boss, `{"email":"`+adminEmail+`","userName":"`+adminName+`","password":"a-long-password"}`)
			})
		sane(t, "signUp", upS, upB)
		tally[upS]++
		sane(t, "createAdmin", adS, adB)
		if upS == http.StatusCreated && adS == http.StatusCreated {
			both++
		}
		for _, r := range []struct {
			status int
			body   []byte
		}{{upS, upB}, {adS, adB}} {
			if r.status != http.StatusCreated && (r.status != http.StatusConflict || !strings.Contains(string(r.body), "already taken")) {
				t.Errorf("try %d: %d %s", i, r.status, r.body)
			}
		}
	}
	t.Logf("statuses of the slow side over %d tries: %v", integrityTries, tally)
	if n := sqlCount(t, app, sharedNames); n != 0 || both != 0 {
		t.Fatalf("%d of %d tries created a customer and an agent with one user name or email (%d pairs stored)", both, integrityTries, n)
	}
}

func TestIntegrityRaceRenameVsCreateAdmin(t *testing.T) {
	app := integrityApp(t)
	slowExecute(app, raceWindow, true, policy.Users)
	base := testapp.Serve(t, app)
	boss := testapp.Token(t, testapp.SuperAdmin)
	both := 0
	tally := map[int]int{}
	for i := range integrityTries {
		id, token := newCustomer(t, app, fmt.Sprintf("renamer%02d", i))
		name := fmt.Sprintf("wanted%02d", i)
		renS, renB, adS, adB := racePair(t, i,
			func() (int, []byte) {
				return call(t, "PATCH", base+"/api/collections/users/records/"+id, token, `{"userName":"`+name+`"}`)
			},
			func() (int, []byte) {
				return call(t, "POST", base+"/createAdmin", boss, `{"email":"`+name+`@example.com","userName":"`+strings.ToUpper(name)+`","password":"a-long-password"}`)
			})
		sane(t, "rename", renS, renB)
		tally[renS]++
		sane(t, "createAdmin", adS, adB)
		if renS == http.StatusOK && adS == http.StatusCreated {
			both++
		}
		if renS != http.StatusOK && (renS != http.StatusConflict || !strings.Contains(string(renB), "That user name is already taken.")) {
			t.Errorf("try %d rename: %d %s", i, renS, renB)
		}
		if adS != http.StatusCreated && adS != http.StatusConflict {
			t.Errorf("try %d createAdmin: %d %s", i, adS, adB)
		}
	}
	t.Logf("statuses of the slow side over %d tries: %v", integrityTries, tally)
	if n := sqlCount(t, app, sharedNames); n != 0 || both != 0 {
		t.Fatalf("%d of %d tries gave a customer and an agent one user name (%d pairs stored)", both, integrityTries, n)
	}
}
