package realtime_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/apis"

	"ticketportal/policy"
	"ticketportal/realtime"
	"ticketportal/testapp"
)

const (
	tickets = "/api/collections/tickets/records"
	answers = "/api/collections/messages/records"
	quiet   = 500 * time.Millisecond // how long "hears nothing" listens
)

func TestRealtimeWhoMayJoinTheAdminsRoom(t *testing.T) {
	app := testapp.New(t)
	url := testapp.Serve(t, app)

	cases := []struct {
		kind   string
		status int
	}{
		{testapp.Anonymous, http.StatusForbidden},
		{testapp.Forged, http.StatusForbidden},
		{testapp.Owner, http.StatusForbidden},
		{testapp.OtherCustomer, http.StatusForbidden},
		{testapp.Unverified, http.StatusForbidden},
		{testapp.Admin, http.StatusNoContent},
		{"other admin", http.StatusNoContent},
		{testapp.SuperAdmin, http.StatusNoContent},
		{testapp.Operator, http.StatusNoContent},
	}
	clients := map[string]*testapp.SSE{}
	for _, c := range cases {
		s := testapp.ConnectSSE(t, url)
		if got := s.Subscribe(testapp.Token(t, c.kind), realtime.AdminsRoom); got != c.status {
			t.Errorf("%s joins the admins room: status %d, want %d", c.kind, got, c.status)
		}
		clients[c.kind] = s
	}

	// Options or other topics in the same request do not get a customer in.
	sneaky := testapp.ConnectSSE(t, url)
	owner := testapp.Token(t, testapp.Owner)
	if got := sneaky.Subscribe(owner, "tickets/*", realtime.AdminsRoom+`?options={"query":{"x":"1"}}`); got != http.StatusForbidden {
		t.Errorf("customer joins the room with options: status %d, want 403", got)
	}
	if got := sneaky.Subscribe(owner, "tickets/*"); got != http.StatusNoContent {
		t.Errorf("customer subscribes to tickets: status %d, want 204", got)
	}

	mustCall(t, 200, "PATCH", url+tickets+"/"+testapp.TicketId, testapp.Token(t, testapp.Admin), `{"takenBy":"`+testapp.AdminId+`"}`)
	want := realtime.Marked{TicketId: testapp.TicketId, TicketStatus: "taken", By: testapp.AdminId}
	for _, c := range cases {
		if c.status == http.StatusNoContent {
			clients[c.kind].ExpectMarked(t, want)
		}
	}
	for _, c := range cases {
		if c.status != http.StatusNoContent {
			clients[c.kind].ExpectNothing(t, quiet)
		}
	}
	// the customer hears its ticket's update, never the room
	expectRecord(t, sneaky, "tickets/*", "update", testapp.TicketId)
	sneaky.ExpectNothing(t, quiet)
}

func TestRealtimeMarkedMessages(t *testing.T) {
	app := testapp.New(t)
	url := testapp.Serve(t, app)
	room := map[string]*testapp.SSE{}
	for _, kind := range []string{testapp.Admin, "other admin", testapp.SuperAdmin, testapp.Operator} {
		room[kind] = testapp.ConnectSSE(t, url)
		room[kind].MustSubscribe(testapp.Token(t, kind), realtime.AdminsRoom)
	}
	everyoneHears := func(t *testing.T, want ...realtime.Marked) {
		t.Helper()
		for _, s := range room {
			for _, w := range want {
				s.ExpectMarked(t, w)
			}
		}
	}
	tok := func(kind string) string { return testapp.Token(t, kind) }
	marked := func(ticketId, status, by string) realtime.Marked {
		return realtime.Marked{TicketId: ticketId, TicketStatus: status, By: by}
	}

	t.Run("record API", func(t *testing.T) {
		mustCall(t, 200, "PATCH", url+tickets+"/"+testapp.TicketId, tok(testapp.Admin), `{"takenBy":"`+testapp.AdminId+`"}`)
		everyoneHears(t, marked(testapp.TicketId, "taken", testapp.AdminId))
		mustCall(t, 200, "PATCH", url+tickets+"/"+testapp.TakenTicketId, tok("other admin"), `{"ticketStatus":"closed"}`)
		everyoneHears(t, marked(testapp.TakenTicketId, "closed", testapp.OtherAdminId))
		mustCall(t, 200, "PATCH", url+tickets+"/"+testapp.TicketId, tok(testapp.SuperAdmin), `{"isHighPriority":true}`)
		everyoneHears(t, marked(testapp.TicketId, "high priority", testapp.SuperAdminId))

		id := newTicket(t, app, testapp.CustomerId)
		mustCall(t, 200, "PATCH", url+tickets+"/"+id, tok(testapp.SuperAdmin), `{"takenBy":"`+testapp.SuperAdminId+`","ticketStatus":"closed"}`)
		everyoneHears(t, marked(id, "taken", testapp.SuperAdminId), marked(id, "closed", testapp.SuperAdminId))

		r, err := app.FindRecordById(policy.Tickets, id)
		if err != nil || r.GetString("markedBy") != testapp.SuperAdminId {
			t.Fatalf("markedBy after a record API mark = %q (%v), want %s", r.GetString("markedBy"), err, testapp.SuperAdminId)
		}
	})

	t.Run("dashboard (operator's record API)", func(t *testing.T) {
		id := newTicket(t, app, testapp.OtherCustomerId)
		mustCall(t, 200, "PATCH", url+tickets+"/"+id, tok(testapp.Operator), `{"isHighPriority":true}`)
		everyoneHears(t, marked(id, "high priority", testapp.OperatorId))
	})

	t.Run("Go code that leaves markedBy alone", func(t *testing.T) {
		id := newTicket(t, app, testapp.CustomerId)
		r, err := app.FindRecordById(policy.Tickets, id)
		if err != nil {
			t.Fatal(err)
		}
		r.Set("takenBy", testapp.OtherAdminId)
		if err := app.Save(r); err != nil {
			t.Fatal(err)
		}
		everyoneHears(t, marked(id, "taken", testapp.OtherAdminId))
	})

	t.Run("custom routes", func(t *testing.T) {
		id := newTicket(t, app, testapp.CustomerId)
		mustCall(t, 200, "PATCH", url+"/markTicketStatus/"+id, tok("other admin"), `{"status":"markAsTaken"}`)
		everyoneHears(t, marked(id, "taken", testapp.OtherAdminId))
		mustCall(t, 200, "PATCH", url+"/markAsHighPriority/"+id, tok(testapp.SuperAdmin), `{}`)
		everyoneHears(t, marked(id, "high priority", testapp.SuperAdminId))
		mustCall(t, 200, "PATCH", url+"/markTicketStatus/"+id, tok(testapp.Admin), `{"status":"markAsClosed"}`)
		everyoneHears(t, marked(id, "closed", testapp.AdminId))
	})

	t.Run("changes that are not marks", func(t *testing.T) {
		id := newTicket(t, app, testapp.CustomerId)
		mustCall(t, 200, "PATCH", url+tickets+"/"+id, tok(testapp.SuperAdmin), `{"isHighPriority":true}`)
		everyoneHears(t, marked(id, "high priority", testapp.SuperAdminId))
		// unflagging, answering, a no-op close of a closed ticket: silence
		mustCall(t, 200, "PATCH", url+tickets+"/"+id, tok(testapp.SuperAdmin), `{"isHighPriority":false}`)
		mustCall(t, 200, "POST", url+answers, tok(testapp.Admin), `{"ticket":"`+id+`","kind":"answer","body":"On it.","authorId":"`+testapp.AdminId+`"}`)
		mustCall(t, 200, "PATCH", url+"/sendAnswerOnTicket/"+id, tok(testapp.Admin), `{"answer":"Still on it."}`)
		mustCall(t, 200, "PATCH", url+"/markTicketStatus/"+testapp.ClosedTicketId, tok(testapp.Admin), `{"status":"markAsClosed"}`)
		// the next message anyone hears is the next mark
		mustCall(t, 200, "PATCH", url+"/markTicketStatus/"+id, tok(testapp.Admin), `{"status":"markAsClosed"}`)
		everyoneHears(t, marked(id, "closed", testapp.AdminId))
	})
}

func TestRealtimeRevokedAccountsLeaveTheRoom(t *testing.T) {
	app := testapp.New(t)
	url := testapp.Serve(t, app)
	control := testapp.ConnectSSE(t, url)
	control.MustSubscribe(testapp.Token(t, testapp.Admin), realtime.AdminsRoom)
	boss := testapp.Token(t, testapp.SuperAdmin)

	// mark flags a fresh ticket and waits until the control client hears it
	mark := func(t *testing.T) string {
		id := newTicket(t, app, testapp.CustomerId)
		mustCall(t, 200, "PATCH", url+"/markAsHighPriority/"+id, boss, `{}`)
		control.ExpectMarked(t, realtime.Marked{TicketId: id, TicketStatus: "high priority", By: testapp.SuperAdminId})
		return id
	}

	t.Run("new password", func(t *testing.T) {
		agent, oldToken := newAdmin(t, app, "agent9")
		s := testapp.ConnectSSE(t, url)
		s.MustSubscribe(oldToken, realtime.AdminsRoom)
		id := mark(t)
		s.ExpectMarked(t, realtime.Marked{TicketId: id, TicketStatus: "high priority", By: testapp.SuperAdminId})

		mustCall(t, 200, "PATCH", url+"/api/collections/admins/records/"+agent.Id, oldToken,
			`{"oldPassword":"`+testapp.Password+`","password":"a-new-password-9","passwordConfirm":"a-new-password-9"}`)
		client, err := app.SubscriptionsBroker().ClientById(s.ClientId)
		if err != nil {
			t.Fatal(err)
		}
		if auth := client.Get(apis.RealtimeClientAuthKey); auth != nil {
			t.Fatalf("PocketBase kept the client's auth after the password change: %v", auth)
		}
		mark(t)
		s.ExpectNothing(t, quiet)

		// the old token no longer gets in; a new one does
		if got := s.Subscribe(oldToken, realtime.AdminsRoom); got != http.StatusForbidden {
			t.Fatalf("rejoin with the old token: status %d, want 403", got)
		}
		fresh, err := app.FindRecordById(policy.Admins, agent.Id)
		if err != nil {
			t.Fatal(err)
		}
		newToken, _ := fresh.NewAuthToken()
		s.MustSubscribe(newToken, realtime.AdminsRoom)
		id = mark(t)
		s.ExpectMarked(t, realtime.Marked{TicketId: id, TicketStatus: "high priority", By: testapp.SuperAdminId})
	})

	t.Run("account deleted", func(t *testing.T) {
		agent, token := newAdmin(t, app, "agent10")
		s := testapp.ConnectSSE(t, url)
		s.MustSubscribe(token, realtime.AdminsRoom, "tickets/*")
		mustCall(t, 204, "DELETE", url+"/api/collections/admins/records/"+agent.Id, boss, "")
		mark(t)
		s.ExpectNothing(t, quiet)
	})
}
