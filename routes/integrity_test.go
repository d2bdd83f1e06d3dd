package routes_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
	"ticketportal/testapp"
)

// Each integrity trigger answers its 4xx on every path. The conflicting
// write is made by a hook between PocketBase's (and the portal's) own
// checks and the DB write, as the losing side of a race sees it; the answer
// must then come from the trigger.

// meanwhile runs change once, just before the next DB write of a record of
// collection (a create, or an update if update), in the writer's
// transaction if it has one.
func meanwhile(app core.App, collection string, update bool, change func(tx core.App)) {
	var once sync.Once
	h := func(e *core.RecordEvent) error {
		once.Do(func() { change(e.App) })
		return e.Next()
	}
	if update {
		app.OnRecordUpdateExecute(collection).BindFunc(h)
	} else {
		app.OnRecordCreateExecute(collection).BindFunc(h)
	}
}

func sqlExec(t testing.TB, app core.App, query string) {
	t.Helper()
	if _, err := app.DB().NewQuery(query).Execute(); err != nil {
		t.Fatal(err)
	}
}

type integrityCase struct {
	name       string
	collection string
	update     bool
	change     func(t testing.TB, tx core.App)
	method     string
	path       string
	token      func(t testing.TB, app core.App) string
	body       string
	status     int
	content    []string
}

func runIntegrityCase(t *testing.T, c integrityCase) {
	t.Run(c.name, func(t *testing.T) {
		app := integrityApp(t)
		meanwhile(app, c.collection, c.update, func(tx core.App) { c.change(t, tx) })
		base := testapp.Serve(t, app)
		status, body := call(t, c.method, base+strings.ReplaceAll(c.path, "{new}", "x"), c.token(t, app), c.body)
		sane(t, c.name, status, body)
		if status != c.status {
			t.Fatalf("status %d, want %d: %s", status, c.status, body)
		}
		for _, want := range c.content {
			if !strings.Contains(string(body), want) {
				t.Errorf("answer lacks %s: %s", want, body)
			}
		}
		if n := sqlCount(t, app, orphanTickets) + sqlCount(t, app, orphanAnswers) + sqlCount(t, app, ghostHolders) + sqlCount(t, app, sharedNames); n != 0 {
			t.Errorf("%d violations stored", n)
		}
	})
}

func fixtureToken(kind string) func(testing.TB, core.App) string {
	return func(t testing.TB, _ core.App) string { return testapp.Token(t, kind) }
}

func TestIntegrityTriggerAnswers(t *testing.T) {
	deleteAlice := func(t testing.TB, tx core.App) {
		// as PocketBase's cascade does: the customer, its tickets and their answers
		sqlExec(t, tx, `DELETE FROM messages WHERE ticket IN (SELECT id FROM tickets WHERE customerId = '`+testapp.CustomerId+`');
			DELETE FROM tickets WHERE customerId = '`+testapp.CustomerId+`'; DELETE FROM users WHERE id = '`+testapp.CustomerId+`'`)
	}
	deleteTicket := func(t testing.TB, tx core.App) {
		sqlExec(t, tx, `DELETE FROM tickets WHERE id = '`+testapp.TicketId+`'`)
	}
	deleteAgent1 := func(t testing.TB, tx core.App) {
		sqlExec(t, tx, `DELETE FROM admins WHERE id = '`+testapp.AdminId+`'`)
	}
	agentNamed := func(name, email string) func(testing.TB, core.App) {
		return func(t testing.TB, tx core.App) {
			testapp.NewAdmin(t, tx, name)
			sqlExec(t, tx, `UPDATE admins SET email = '`+email+`' WHERE userName = '`+name+`'`)
		}
	}
	customerNamed := func(name string) func(testing.TB, core.App) {
		return func(t testing.TB, tx core.App) { newCustomer(t, tx, name) }
	}
	missingCustomer := []string{`"status":400`, `"customerId":{"code":"validation_missing_rel_records","message":"There is no customer with this id."}`}
	takenName := []string{`"status":409`, `"userName":{"code":"validation_not_unique"`}

	for _, c := range []integrityCase{
		// a ticket's customer exists
		{name: "sendTicket of a customer deleted meanwhile", collection: policy.Tickets, change: deleteAlice,
			method: "POST", path: "/sendTicket", token: fixtureToken(testapp.Owner), body: `{"ticketContent":"Hello."}`,
			status: 400, content: missingCustomer},
		{name: "record API ticket of a customer deleted meanwhile", collection: policy.Tickets, change: deleteAlice,
			method: "POST", path: "/api/collections/tickets/records", token: fixtureToken(testapp.Owner),
			body:   `{"customerId":"` + testapp.CustomerId + `","ticketContent":"Hello."}`,
			status: 400, content: append([]string{`"message":"There is no customer with this id."`}, missingCustomer[1:]...)},
		{name: "batch ticket of a customer deleted meanwhile", collection: policy.Tickets, change: deleteAlice,
			method: "POST", path: "/api/batch", token: fixtureToken(testapp.Owner),
			body:   `{"requests":[{"method":"POST","url":"/api/collections/tickets/records","body":{"customerId":"` + testapp.CustomerId + `","ticketContent":"Hello."}}]}`,
			status: 400, content: []string{`"requests":{"0":{"code":"batch_request_failed"`, `"message":"There is no customer with this id.","status":400`}},

		// a ticket's holder exists
		{name: "markTicketStatus by an agent deleted meanwhile", collection: policy.Tickets, update: true, change: deleteAgent1,
			method: "PATCH", path: "/markTicketStatus/" + testapp.TicketId, token: fixtureToken(testapp.Admin), body: `{"status":"markAsTaken"}`,
			status: 401, content: []string{`"message":"Your account no longer exists."`}},
		{name: "record API take by an agent deleted meanwhile", collection: policy.Tickets, update: true, change: deleteAgent1,
			method: "PATCH", path: "/api/collections/tickets/records/" + testapp.TicketId, token: fixtureToken(testapp.Admin),
			body:   `{"takenBy":"` + testapp.AdminId + `"}`,
			status: 400, content: []string{`"message":"There is no agent with this id."`, `"takenBy":{"code":"validation_missing_rel_records"`}},

		// an answer's ticket exists
		{name: "sendAnswerOnTicket on a ticket deleted meanwhile", collection: policy.Messages, change: deleteTicket,
			method: "PATCH", path: "/sendAnswerOnTicket/" + testapp.TicketId, token: fixtureToken(testapp.Admin), body: `{"answer":"Hi."}`,
			status: 404, content: []string{`"message":"There is no ticket with this id."`}},
		{name: "record API answer on a ticket deleted meanwhile", collection: policy.Messages, change: deleteTicket,
			method: "POST", path: "/api/collections/messages/records", token: fixtureToken(testapp.Admin),
			body:   `{"ticket":"` + testapp.TicketId + `","kind":"answer","body":"Hi.","authorId":"` + testapp.AdminId + `"}`,
			status: 400, content: []string{`"message":"There is no ticket with this id."`, `"ticket":{"code":"validation_missing_rel_records"`}},

		// a user name and an email name one account
		{name: "signUp with a user name an agent took meanwhile", collection: policy.Users, change: agentNamed("Dave", "other@example.com"),
			method: "POST", path: "/signUp", token: func(testing.TB, core.App) string { return "" },
			body: `{"email":"dave@example.com","userName":"dave","password":"a-long-password","confirmPassword":"a-long-password",` +
				`"userFirstName":"Dave","userLastName":"Day","mobileNumber":"+1 555 0123"}`,
			status: 409, content: append([]string{`"message":"That userName is already taken."`}, takenName[1:]...)},
		{name: "signUp with an email an agent took meanwhile", collection: policy.Users, change: agentNamed("dave2", "DAVE@example.com"),
			method: "POST", path: "/signUp", token: func(testing.TB, core.App) string { return "" },
			body: `{"email":"dave@example.com","userName":"dave","password":"a-long-password","confirmPassword":"a-long-password",` +
				`"userFirstName":"Dave","userLastName":"Day","mobileNumber":"+1 555 0123"}`,
			status: 409, content: []string{`"message":"That email is already taken."`, `"email":{"code":"validation_not_unique"`}},
		{name: "createAdmin with a user name a customer took meanwhile", collection: policy.Admins, change: customerNamed("ERIN"),
			method: "POST", path: "/createAdmin", token: fixtureToken(testapp.SuperAdmin),
			body:   `{"email":"erin.agent@example.com","userName":"erin","password":"a-long-password"}`,
			status: 409, content: append([]string{`This userName is already taken.`}, takenName[1:]...)},
		{name: "editProfile to a user name an agent took meanwhile", collection: policy.Users, update: true, change: agentNamed("frank", "frank@example.com"),
			method: "PATCH", path: "/editProfile", token: fixtureToken(testapp.Owner), body: `{"userName":"Frank"}`,
			status: 409, content: takenName},
		{name: "record API rename of a customer to a name an agent took meanwhile", collection: policy.Users, update: true, change: agentNamed("gina", "gina@example.com"),
			method: "PATCH", path: "/api/collections/users/records/" + testapp.CustomerId, token: fixtureToken(testapp.Owner), body: `{"userName":"GINA"}`,
			status: 409, content: append([]string{`"message":"That user name is already taken."`}, takenName[1:]...)},
		{name: "record API rename of an agent to a name a customer took meanwhile", collection: policy.Admins, update: true, change: customerNamed("hank"),
			method: "PATCH", path: "/api/collections/admins/records/" + testapp.AdminId, token: fixtureToken(testapp.Admin), body: `{"userName":"Hank"}`,
			status: 409, content: append([]string{`"message":"That user name is already taken."`}, takenName[1:]...)},
		{name: "record API agent created by an operator with a name a customer took meanwhile", collection: policy.Admins, change: customerNamed("ivy"),
			method: "POST", path: "/api/collections/admins/records", token: fixtureToken(testapp.Operator),
			body:   `{"email":"ivy.agent@example.com","userName":"IVY","password":"a-long-password","passwordConfirm":"a-long-password","role":"admin"}`,
			status: 409, content: append([]string{`"message":"That user name is already taken."`}, takenName[1:]...)},
		{name: "batch agent created with a name a customer took meanwhile", collection: policy.Admins, change: customerNamed("jay"),
			method: "POST", path: "/api/batch", token: fixtureToken(testapp.Operator),
			body:   `{"requests":[{"method":"POST","url":"/api/collections/admins/records","body":{"email":"jay.agent@example.com","userName":"JAY","password":"a-long-password","passwordConfirm":"a-long-password","role":"admin"}}]}`,
			status: 400, content: []string{`"requests":{"0":{"code":"batch_request_failed"`, `"message":"That user name is already taken.","status":409`}},
	} {
		runIntegrityCase(t, c)
	}
}

// Without a race, the record API answers a user name another account holds
// as the trigger does: 409 naming the field.
func TestIntegrityRecordApiTakenNameIs409(t *testing.T) {
	app := integrityApp(t)
	base := testapp.Serve(t, app)
	status, body := call(t, "PATCH", base+"/api/collections/users/records/"+testapp.CustomerId, testapp.Token(t, testapp.Owner), `{"userName":"AGENT1"}`)
	if status != http.StatusConflict || !strings.Contains(string(body), `"message":"That user name is already taken."`) ||
		!strings.Contains(string(body), `"userName":{"code":"validation_not_unique"`) {
		t.Fatalf("%d %s", status, body)
	}
}

// Deleting an agent through the record API frees its active tickets in the
// delete's transaction and announces them; its closed tickets keep it as
// history.
func TestIntegrityDeletedAgentFreesTickets(t *testing.T) {
	app := integrityApp(t)
	closedHeld := newTicket(t, app, testapp.CustomerId, "Old.", time.Now(), map[string]any{"ticketStatus": policy.StatusClosed, "takenBy": testapp.OtherAdminId})
	var updated []string
	app.OnRecordAfterUpdateSuccess(policy.Tickets).BindFunc(func(e *core.RecordEvent) error {
		updated = append(updated, e.Record.Id)
		return e.Next()
	})
	base := testapp.Serve(t, app)
	status, body := call(t, "DELETE", base+"/api/collections/admins/records/"+testapp.OtherAdminId, testapp.Token(t, testapp.Operator), "")
	if status != http.StatusNoContent {
		t.Fatalf("%d %s", status, body)
	}
	held, err := app.FindRecordById(policy.Tickets, testapp.TakenTicketId)
	if err != nil {
		t.Fatal(err)
	}
	if held.GetString("takenBy") != "" || held.GetBool("isTaken") {
		t.Errorf("active ticket still held: %q %v", held.GetString("takenBy"), held.GetBool("isTaken"))
	}
	if len(updated) != 1 || updated[0] != testapp.TakenTicketId {
		t.Errorf("update events %v, want the freed ticket only", updated)
	}
	closed, err := app.FindRecordById(policy.Tickets, closedHeld)
	if err != nil {
		t.Fatal(err)
	}
	if closed.GetString("takenBy") != testapp.OtherAdminId {
		t.Errorf("closed ticket lost its history: takenBy %q", closed.GetString("takenBy"))
	}
}
