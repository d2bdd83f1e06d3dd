package hooks_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"

	"ticketportal/policy"
	"ticketportal/realtime"
	"ticketportal/testapp"
)

const (
	messagesAPI = "/api/collections/messages/records"
	tickets     = "/api/collections/tickets/records"
	historyAPI  = "/api/collections/ticketHistory/records"
	secretNote  = "Internal: this customer owes us money"
)

// A customer never sees a note, nor a staff-only field, on any surface:
// custom routes, record API list/view/expand of messages and tickets, batch,
// realtime, history. Staff see them on the same surfaces.
func TestCustomerNeverSeesANote(t *testing.T) {
	app := testapp.New(t)
	url := testapp.Serve(t, app)
	alice, agent := testapp.Token(t, testapp.Owner), testapp.Token(t, testapp.Admin)

	// alice listens to her tickets and their messages before the note exists
	sse := testapp.ConnectSSE(t, url)
	sse.MustSubscribe(alice, "tickets/*", "messages/*", "tickets/"+testapp.TicketId+"?expand=customerId")
	staffSSE := testapp.ConnectSSE(t, url)
	staffSSE.MustSubscribe(agent, "messages/*")

	// the note through the record API, a tag through the record API
	var note struct{ Id string }
	decode(t, mustCall(t, 200, "POST", url+messagesAPI, agent,
		`{"ticket":"`+testapp.TicketId+`","kind":"note","body":"`+secretNote+`","authorId":"`+testapp.AdminId+`"}`), &note)
	mustCall(t, 200, "PATCH", url+tickets+"/"+testapp.TicketId, agent, `{"tags":["debtor"]}`)

	// staff hear the note on messages; alice hears nothing of it
	if ev := staffSSE.Expect(t, "messages/*"); !strings.Contains(string(ev.Data), secretNote) {
		t.Fatalf("staff did not hear the note: %s", ev.Data)
	}
	// alice hears the tag change as a ticket update, without the tag
	for range 2 {
		ev, ok := sse.Next(5 * time.Second)
		if !ok {
			break
		}
		if strings.Contains(string(ev.Data), secretNote) || strings.Contains(string(ev.Data), "debtor") || strings.Contains(string(ev.Data), `"kind":"note"`) {
			t.Fatalf("alice heard the note or the tag on %s: %s", ev.Name, ev.Data)
		}
	}

	reads := map[string]string{
		"custom getTicket":        "/getTicket/" + testapp.TicketId,
		"custom getUserTickets":   "/getUserTickets",
		"record API ticket view":  tickets + "/" + testapp.TicketId,
		"record API ticket list":  tickets + "?sort=-createdAt",
		"record API message list": messagesAPI,
		"record API message view": messagesAPI + "/" + note.Id,
		"record API expand":       messagesAPI + "?expand=ticket",
		"record API back-expand":  tickets + "/" + testapp.TicketId + "?expand=messages_via_ticket",
		"record API filter":       messagesAPI + "?filter=" + strings.ReplaceAll(`kind="note"`, `"`, "%22"),
		"history list":            historyAPI,
		"custom history":          "/getTicketHistory/" + testapp.TicketId,
	}
	for name, path := range reads {
		status, body := call(t, "GET", url+path, alice, "")
		if strings.Contains(body, secretNote) || strings.Contains(body, "debtor") || strings.Contains(body, `"kind":"note"`) || strings.Contains(body, `"noted"`) {
			t.Errorf("%s (%d): alice sees the note: %s", name, status, body)
		}
		if status >= 500 {
			t.Errorf("%s: %d", name, status)
		}
	}
	// and the staff see it where staff look
	for name, path := range map[string]string{
		"custom getTicket":       "/getTicket/" + testapp.TicketId,
		"record API ticket view": tickets + "/" + testapp.TicketId,
		"record API message":     messagesAPI + "/" + note.Id,
	} {
		if body := mustCall(t, 200, "GET", url+path, agent, ""); !strings.Contains(body, secretNote) {
			t.Errorf("%s: the agent does not see the note: %s", name, body)
		}
	}
	if body := mustCall(t, 200, "GET", url+"/getTicket/"+testapp.TicketId, agent, ""); !strings.Contains(body, `"tags":["debtor"]`) {
		t.Errorf("the agent does not see the tag: %s", body)
	}

	// batch: alice cannot write a note, nor read one through a batch upsert
	status, body := call(t, "POST", url+"/api/batch", alice, `{"requests":[{"method":"POST","url":"`+messagesAPI+`","body":{"ticket":"`+testapp.TicketId+`","kind":"note","body":"mine","authorId":"`+testapp.CustomerId+`"}}]}`)
	if status < 400 || strings.Contains(body, secretNote) {
		t.Errorf("batch note by a customer: %d %s", status, body)
	}
	if n, _ := app.CountRecords(policy.Messages, dbx.HashExp{"kind": policy.KindNote, "authorId": testapp.CustomerId}); n != 0 {
		t.Errorf("a customer's note was stored")
	}
	sse.ExpectNothing(t, 300*time.Millisecond)
}

// Changes made through the record API write the same history as the
// routes, in the write's transaction.
func TestRecordAPIWritesHistory(t *testing.T) {
	app := testapp.New(t)
	url := testapp.Serve(t, app)
	agent, boss, alice := testapp.Token(t, testapp.Admin), testapp.Token(t, testapp.SuperAdmin), testapp.Token(t, testapp.Owner)

	mustCall(t, 200, "PATCH", url+tickets+"/"+testapp.TicketId, agent, `{"takenBy":"`+testapp.AdminId+`"}`)
	mustCall(t, 200, "PATCH", url+tickets+"/"+testapp.TicketId, boss, `{"isHighPriority":true,"tags":["Billing"]}`)
	mustCall(t, 200, "POST", url+messagesAPI, alice, `{"ticket":"`+testapp.TicketId+`","kind":"reply","body":"Any news?","authorId":"`+testapp.CustomerId+`"}`)
	mustCall(t, 200, "POST", url+messagesAPI, agent, `{"ticket":"`+testapp.TicketId+`","kind":"answer","body":"Soon.","authorId":"`+testapp.AdminId+`"}`)
	mustCall(t, 200, "PATCH", url+tickets+"/"+testapp.TicketId, agent, `{"ticketStatus":"closed"}`)

	var lines []struct {
		Event, By string
		ByName    string `db:"byName"`
	}
	// the outbox's own lines (mailSent, mailFailed) come when the mail goes
	// out, whenever that is: not part of this order
	if err := app.DB().NewQuery("SELECT event, by, byName FROM ticketHistory WHERE ticket = {:t} AND event NOT IN ('mailSent', 'mailFailed') ORDER BY at, rowid").
		Bind(dbx.Params{"t": testapp.TicketId}).All(&lines); err != nil {
		t.Fatal(err)
	}
	want := []string{"created alice", "taken agent1", "prioritized boss", "tagged boss", "replied alice", "answered agent1", "closed agent1"}
	var got []string
	for _, l := range lines {
		got = append(got, strings.TrimSpace(l.Event+" "+l.ByName))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("history %v, want %v", got, want)
	}
	tk, _ := app.FindRecordById(policy.Tickets, testapp.TicketId)
	if tk.GetString("waitingOn") != policy.WaitingOnCustomer || tk.GetDateTime("lastMessageAt").IsZero() || tk.GetString("takenByName") != "agent1" || tk.GetDateTime("closedAt").IsZero() {
		t.Errorf("derived fields: %v", tk.FieldsData())
	}
	// nobody writes or edits the history through the API, staff included
	status, _ := call(t, "POST", url+historyAPI, boss, `{"ticket":"`+testapp.TicketId+`","event":"closed"}`)
	if status != 403 {
		t.Errorf("history create by a superAdmin: %d", status)
	}
	// a reply through the record API past the reopen window is refused
	mustCall(t, 200, "PATCH", url+"/portalSettings", boss, `{"reopenWindowDays":0}`)
	status, body := call(t, "POST", url+messagesAPI, alice, `{"ticket":"`+testapp.TicketId+`","kind":"reply","body":"Hello again","authorId":"`+testapp.CustomerId+`"}`)
	if status != 400 || !strings.Contains(body, "replyOnTicket") {
		t.Errorf("late reply through the record API: %d %s", status, body)
	}
}

// An answer created through the record API mails the customer, like one
// from the route.
func TestRecordAPIAnswerIsMailed(t *testing.T) {
	srv := testapp.StartSMTP(t)
	app := testapp.New(t)
	srv.Use(t, app)
	url := testapp.Serve(t, app)
	mustCall(t, 200, "POST", url+messagesAPI, testapp.Token(t, testapp.Admin),
		`{"ticket":"`+testapp.TicketId+`","kind":"answer","body":"Use the export button.","authorId":"`+testapp.AdminId+`"}`)
	m := srv.WaitFor(t, "alice@example.com", "[#"+testapp.TicketId+"]", 20*time.Second)
	if !strings.Contains(m.Text, "Use the export button.") {
		t.Errorf("mail without the answer: %s", m.Text)
	}
	// a note mails nobody
	mustCall(t, 200, "POST", url+messagesAPI, testapp.Token(t, testapp.Admin),
		`{"ticket":"`+testapp.TicketId+`","kind":"note","body":"Internal only.","authorId":"`+testapp.AdminId+`"}`)
	time.Sleep(500 * time.Millisecond)
	for _, m := range srv.Mails() {
		if strings.Contains(m.Text, "Internal only.") {
			t.Error("a note was mailed")
		}
	}
}

// The admin room hears released, reopened and assigned marks, and who is
// viewing or typing in a ticket.
func TestAdminRoomHearsConversationEvents(t *testing.T) {
	app := testapp.New(t)
	url := testapp.Serve(t, app)
	room := testapp.ConnectSSE(t, url)
	room.MustSubscribe(testapp.Token(t, testapp.Admin), realtime.AdminsRoom)
	boss := testapp.Token(t, testapp.SuperAdmin)

	mustCall(t, 204, "POST", url+"/viewingTicket/"+testapp.TicketId, boss, `{"typing":true}`)
	ev := room.Expect(t, realtime.AdminsRoom)
	var v realtime.Viewing
	ev.Decode(t, &v)
	if v != (realtime.Viewing{Event: "viewing", TicketId: testapp.TicketId, By: testapp.SuperAdminId, ByName: "boss", Typing: true}) {
		t.Errorf("viewing message %+v", v)
	}
	mustCall(t, 200, "PATCH", url+"/assignTicket/"+testapp.TicketId, boss, `{"adminId":"`+testapp.AdminId+`"}`)
	room.ExpectMarked(t, realtime.Marked{Event: "marked", TicketId: testapp.TicketId, TicketStatus: "assigned", By: testapp.SuperAdminId})
	mustCall(t, 200, "PATCH", url+"/markTicketStatus/"+testapp.TicketId, testapp.Token(t, testapp.Admin), `{"status":"markAsReleased"}`)
	room.ExpectMarked(t, realtime.Marked{Event: "marked", TicketId: testapp.TicketId, TicketStatus: "released", By: testapp.AdminId})
	mustCall(t, 200, "PATCH", url+"/markTicketStatus/"+testapp.ClosedTicketId, boss, `{"status":"markAsReopened"}`)
	room.ExpectMarked(t, realtime.Marked{Event: "marked", TicketId: testapp.ClosedTicketId, TicketStatus: "reopened", By: testapp.SuperAdminId})

	// a customer may not announce itself
	if status, _ := call(t, "POST", url+"/viewingTicket/"+testapp.TicketId, testapp.Token(t, testapp.Owner), `{}`); status != 403 {
		t.Errorf("customer viewing: %d", status)
	}
}

// A tag change is recorded as what was added and what was removed, on
// whatever surface it was made.
func TestTagHistorySaysWhatWasAddedAndRemoved(t *testing.T) {
	app := testapp.New(t)
	url := testapp.Serve(t, app)
	agent := testapp.Token(t, testapp.Admin)
	mustCall(t, 200, "PATCH", url+tickets+"/"+testapp.TicketId, agent, `{"tags":["billing","urgent"]}`)
	mustCall(t, 200, "PATCH", url+tickets+"/"+testapp.TicketId, agent, `{"tags":["urgent","refund"]}`)

	var details []string
	if err := app.DB().NewQuery("SELECT detail FROM ticketHistory WHERE ticket = {:t} AND event = 'tagged' ORDER BY at, rowid").
		Bind(dbx.Params{"t": testapp.TicketId}).Column(&details); err != nil {
		t.Fatal(err)
	}
	want := []string{`{"added":["billing","urgent"],"removed":[]}`, `{"added":["refund"],"removed":["billing"]}`}
	if strings.Join(details, "\n") != strings.Join(want, "\n") {
		t.Errorf("tag history:\n%s\nwant:\n%s", strings.Join(details, "\n"), strings.Join(want, "\n"))
	}
}
