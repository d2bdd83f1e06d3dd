package realtime_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"

	"ticketportal/policy"
	"ticketportal/realtime"
	"ticketportal/testapp"
)

func TestRealtimeWhoHearsTicketEvents(t *testing.T) {
	app := testapp.New(t)
	url := testapp.Serve(t, app)
	listen := func(kind string) *testapp.SSE {
		s := testapp.ConnectSSE(t, url)
		s.MustSubscribe(testapp.Token(t, kind), "tickets/*", "messages/*")
		return s
	}
	alice, bob, agent, boss := listen(testapp.Owner), listen(testapp.OtherCustomer), listen(testapp.Admin), listen(testapp.SuperAdmin)
	guest := listen(testapp.Anonymous)

	// alice sends a ticket: she, the agent and the superAdmin hear it
	var created struct{ Id string }
	decode(t, mustCall(t, 200, "POST", url+tickets, testapp.Token(t, testapp.Owner),
		`{"customerId":"`+testapp.CustomerId+`","ticketContent":"My order never came."}`), &created)
	id := created.Id
	for _, s := range []*testapp.SSE{alice, agent, boss} {
		expectRecord(t, s, "tickets/*", "create", id)
	}

	// an answer: alice sees it arrive in her ticket without reloading
	mustCall(t, 200, "PATCH", url+"/sendAnswerOnTicket/"+id, testapp.Token(t, testapp.Admin), `{"answer":"It left the warehouse today."}`)
	for name, s := range map[string]*testapp.SSE{"customer": alice, "admin": agent, "superAdmin": boss} {
		byTopic := map[string]testapp.SSEEvent{}
		for range 2 {
			ev, ok := s.Next(10 * time.Second)
			if !ok {
				t.Fatalf("%s heard %d of the answer's 2 events", name, len(byTopic))
			}
			byTopic[ev.Name] = ev
		}
		var answer, ticket recordEvent
		byTopic["messages/*"].Decode(t, &answer)
		byTopic["tickets/*"].Decode(t, &ticket)
		if answer.Action != "create" || answer.Record["ticket"] != id || answer.Record["body"] != "It left the warehouse today." {
			t.Fatalf("%s: answer event %+v", name, answer)
		}
		if ticket.Action != "update" || ticket.Record["id"] != id || !strings.Contains(fmt.Sprint(ticket.Record["ticketAnswers"]), "It left the warehouse today.") {
			t.Fatalf("%s: ticket update %+v does not carry the answer", name, ticket)
		}
	}

	// closed: the customer and the superAdmin hear it, the agent's queue no longer has it
	mustCall(t, 200, "PATCH", url+"/markTicketStatus/"+id, testapp.Token(t, testapp.Admin), `{"status":"markAsClosed"}`)
	if r := expectRecord(t, alice, "tickets/*", "update", id); r["ticketStatus"] != policy.StatusClosed {
		t.Fatalf("customer heard %v, want the ticket closed", r)
	}
	expectRecord(t, boss, "tickets/*", "update", id)

	// deleted: the answer goes with it
	mustCall(t, 204, "DELETE", url+tickets+"/"+id, testapp.Token(t, testapp.SuperAdmin), "")
	for _, s := range []*testapp.SSE{alice, boss} {
		got := map[string]string{}
		for range 2 {
			ev, ok := s.Next(10 * time.Second)
			if !ok {
				t.Fatalf("heard %v of the delete's 2 events", got)
			}
			var e recordEvent
			ev.Decode(t, &e)
			got[ev.Name] = e.Action
		}
		if got["tickets/*"] != "delete" || got["messages/*"] != "delete" {
			t.Fatalf("delete events %v", got)
		}
	}

	// bob's own ticket is the first thing bob hears; the agent's next event
	// is that ticket too, not alice's closed one
	other := newTicket(t, app, testapp.OtherCustomerId)
	for _, s := range []*testapp.SSE{bob, agent, boss} {
		expectRecord(t, s, "tickets/*", "create", other)
	}
	alice.ExpectNothing(t, quiet)
	guest.ExpectNothing(t, 100*time.Millisecond)
}

// A request that causes a broadcast returns before any subscriber is
// checked: here every subscriber's enrichment is held until the request has
// answered, and a client that never reads holds up nobody.
func TestRealtimeBroadcastsDoNotHoldUpRequests(t *testing.T) {
	app := testapp.New(t)
	url := testapp.Serve(t, app)
	release := make(chan struct{})
	var releaseOnce sync.Once
	releaseAll := func() { releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(releaseAll)
	app.OnRecordEnrich(policy.Tickets).BindFunc(func(e *core.RecordEnrichEvent) error {
		if e.RequestInfo.Context == core.RequestInfoContextRealtime {
			<-release
		}
		return e.Next()
	})

	admin, err := app.FindRecordById(policy.Admins, testapp.OtherAdminId)
	if err != nil {
		t.Fatal(err)
	}
	stuck := subscriptions.NewDefaultClient() // never reads its channel
	stuck.Set(apis.RealtimeClientAuthKey, admin)
	stuck.Subscribe("tickets/*", realtime.AdminsRoom)
	app.SubscriptionsBroker().Register(stuck)

	s := testapp.ConnectSSE(t, url)
	s.MustSubscribe(testapp.Token(t, testapp.Admin), "tickets/*", realtime.AdminsRoom)

	start := time.Now()
	mustCall(t, 200, "PATCH", url+"/markTicketStatus/"+testapp.TicketId, testapp.Token(t, testapp.Admin), `{"status":"markAsTaken"}`)
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the mark took %s", took)
	}
	s.ExpectNothing(t, 100*time.Millisecond) // still held
	releaseAll()                             // let the enrichments through
	expectRecord(t, s, "tickets/*", "update", testapp.TicketId)
	s.ExpectMarked(t, realtime.Marked{TicketId: testapp.TicketId, TicketStatus: "taken", By: testapp.AdminId})
}

// Each client hears the events in the order of the writes.
func TestRealtimeEventsKeepTheirOrder(t *testing.T) {
	app := testapp.New(t)
	url := testapp.Serve(t, app)
	s := testapp.ConnectSSE(t, url)
	s.MustSubscribe(testapp.Token(t, testapp.SuperAdmin), "tickets/"+testapp.TicketId, realtime.AdminsRoom)
	boss := testapp.Token(t, testapp.SuperAdmin)
	const n = 30
	for i := range n {
		mustCall(t, 200, "PATCH", url+tickets+"/"+testapp.TicketId, boss, fmt.Sprintf(`{"isHighPriority":%v}`, i%2 == 0))
	}
	for i := range n {
		r := expectRecord(t, s, "tickets/"+testapp.TicketId, "update", testapp.TicketId)
		if r["isHighPriority"] != (i%2 == 0) {
			t.Fatalf("update %d has isHighPriority %v", i, r["isHighPriority"])
		}
		if i%2 == 0 {
			s.ExpectMarked(t, realtime.Marked{TicketId: testapp.TicketId, TicketStatus: "high priority", By: testapp.SuperAdminId})
		}
	}
}

// The subscription options PocketBase supports work on the portal's
// dispatcher too: a filter, expand and fields.
func TestRealtimeSubscriptionOptions(t *testing.T) {
	app := testapp.New(t)
	url := testapp.Serve(t, app)
	s := testapp.ConnectSSE(t, url)
	filtered := `tickets/*?options={"query":{"filter":"isHighPriority = true"}}`
	shaped := `tickets/*?options={"query":{"expand":"customerId","fields":"id,ticketStatus,expand.customerId.userName"}}`
	s.MustSubscribe(testapp.Token(t, testapp.Owner), filtered, shaped) // alice may expand her own account
	boss := testapp.Token(t, testapp.SuperAdmin)

	mustCall(t, 200, "PATCH", url+"/markAsHighPriority/"+testapp.TicketId, boss, `{}`)
	heard := map[string]recordEvent{}
	for range 2 {
		ev, ok := s.Next(10 * time.Second)
		if !ok {
			t.Fatalf("heard %d of 2 events", len(heard))
		}
		var e recordEvent
		ev.Decode(t, &e)
		heard[ev.Name] = e
	}
	if r := heard[filtered].Record; r["id"] != testapp.TicketId || r["isHighPriority"] != true {
		t.Fatalf("filtered subscription heard %v", r)
	}
	want := fmt.Sprint(map[string]any{"id": testapp.TicketId, "ticketStatus": "active", "expand": map[string]any{"customerId": map[string]any{"userName": "alice"}}})
	if got := fmt.Sprint(heard[shaped].Record); got != want {
		t.Fatalf("shaped subscription heard %s, want %s", got, want)
	}

	// not high priority: only the shaped subscription hears it
	mustCall(t, 200, "PATCH", url+"/markTicketStatus/"+testapp.TakenTicketId, boss, `{"status":"markAsClosed"}`)
	mustCall(t, 200, "PATCH", url+tickets+"/"+testapp.TicketId, boss, `{"isHighPriority":false}`)
	for _, id := range []string{testapp.TakenTicketId, testapp.TicketId} {
		ev := s.Expect(t, shaped)
		var e recordEvent
		ev.Decode(t, &e)
		if e.Record["id"] != id {
			t.Fatalf("shaped subscription heard %v, want %s", e.Record, id)
		}
	}
	s.ExpectNothing(t, quiet)
}
