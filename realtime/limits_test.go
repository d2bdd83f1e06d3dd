package realtime_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
	"ticketportal/realtime"
	"ticketportal/testapp"
)

// manyTopics is n subscriptions of tickets/* that differ only in their
// options, as the abuse of the realtime API sent them.
func manyTopics(n int) []string {
	topics := make([]string, n)
	for i := range topics {
		topics[i] = fmt.Sprintf(`tickets/*?options={"query":{"n":"0-%d"}}`, i)
	}
	return topics
}

// subscribeBody is the raw answer to a subscription request.
func subscribeBody(t *testing.T, url, token, clientId string, topics []string) (int, string) {
	t.Helper()
	quoted := make([]string, len(topics))
	for i, topic := range topics {
		quoted[i] = fmt.Sprintf("%q", topic)
	}
	return call(t, "POST", url+"/api/realtime", token, `{"clientId":"`+clientId+`","subscriptions":[`+strings.Join(quoted, ",")+`]}`)
}

func TestRealtimeSubscriptionBounds(t *testing.T) {
	app := testapp.New(t)
	url := testapp.Serve(t, app)
	owner := testapp.Token(t, testapp.Owner)
	s := testapp.ConnectSSE(t, url)
	before := realtime.Stats().RefusedSubscribe

	status, body := subscribeBody(t, url, owner, s.ClientId, manyTopics(1000))
	if status != http.StatusBadRequest || !strings.Contains(body, "at most 50 topics") {
		t.Fatalf("1000 topics: %d %s, want 400 naming the limit of 50", status, body)
	}
	status, body = subscribeBody(t, url, owner, s.ClientId, manyTopics(51))
	if status != http.StatusBadRequest || !strings.Contains(body, "at most 50 topics") {
		t.Fatalf("51 topics: %d %s, want 400 naming the limit of 50", status, body)
	}
	long := make([]string, 4) // PocketBase takes up to 2500 bytes a topic
	for i := range long {
		long[i] = fmt.Sprintf(`tickets/*?options={"query":{"n%d":"%s"}}`, i, strings.Repeat("x", 2100))
	}
	status, body = subscribeBody(t, url, owner, s.ClientId, long)
	if status != http.StatusBadRequest || !strings.Contains(body, "at most 8192 bytes") {
		t.Fatalf("8 KiB of options: %d %s, want 400 naming the limit of 8192 bytes", status, body)
	}
	if got := realtime.Stats().RefusedSubscribe - before; got != 3 {
		t.Errorf("refused subscriptions counted %d, want 3", got)
	}

	// within the bounds: accepted, and the client hears its ticket once per
	// subscription
	s.MustSubscribe(owner, manyTopics(50)...)
	mustCall(t, 200, "PATCH", url+tickets+"/"+testapp.TicketId, testapp.Token(t, testapp.Admin), `{"takenBy":"`+testapp.AdminId+`"}`)
	for range 50 {
		ev, ok := s.Next(10 * time.Second)
		if !ok || !strings.HasPrefix(ev.Name, "tickets/*?") {
			t.Fatalf("event %+v, want one per subscription", ev)
		}
	}
}

func TestRealtimeConnectionsPerAccount(t *testing.T) {
	t.Setenv("PORTAL_REALTIME_MAX_GUEST_CONNECTIONS_PER_IP", "3")
	app := testapp.New(t)
	url := testapp.Serve(t, app)
	admin := testapp.Token(t, testapp.Admin)

	// every connection starts as a guest: the fourth waiting one is refused
	var guests []*testapp.SSE
	for range 3 {
		guests = append(guests, testapp.ConnectSSE(t, url))
	}
	status, body := call(t, "GET", url+"/api/realtime", "", "")
	if status != http.StatusTooManyRequests || !strings.Contains(body, "at most 3 may wait unauthenticated") {
		t.Fatalf("4th guest connection: %d %s, want 429 naming the limit", status, body)
	}
	// an authenticated one no longer counts as waiting
	guests[0].MustSubscribe(admin, realtime.AdminsRoom)
	guests = append(guests, testapp.ConnectSSE(t, url))
	guests[1].MustSubscribe(admin, realtime.AdminsRoom)
	guests[2].MustSubscribe(admin, realtime.AdminsRoom)
	guests[3].MustSubscribe(admin, realtime.AdminsRoom)

	// an account holds at most 10 connections
	for i := 4; i < 10; i++ {
		s := testapp.ConnectSSE(t, url)
		s.MustSubscribe(admin, realtime.AdminsRoom)
		guests = append(guests, s)
	}
	extra := testapp.ConnectSSE(t, url)
	status, body = subscribeBody(t, url, admin, extra.ClientId, []string{realtime.AdminsRoom})
	if status != http.StatusTooManyRequests || !strings.Contains(body, "at most 10") {
		t.Fatalf("11th connection of one account: %d %s, want 429 naming the limit of 10", status, body)
	}
	// others are not held back by it, and the refused one may still listen
	// as another account
	extra.MustSubscribe(testapp.Token(t, "other admin"), realtime.AdminsRoom)
	// an account already connected may change its subscriptions
	guests[9].MustSubscribe(admin, realtime.AdminsRoom, "tickets/*")

	// a connection that ends frees its place
	app.SubscriptionsBroker().Unregister(guests[0].ClientId)
	if !guests[0].Ended(10 * time.Second) {
		t.Fatal("the unregistered connection did not end")
	}
	again := testapp.ConnectSSE(t, url)
	deadline := time.Now().Add(5 * time.Second)
	for again.Subscribe(admin, realtime.AdminsRoom) != http.StatusNoContent {
		if time.Now().After(deadline) {
			t.Fatal("the ended connection's place was not freed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// bigTicket stores a ticket of 10,000 characters of the customer.
func bigTicket(t *testing.T, app core.App, customerId string, i int) string {
	t.Helper()
	col, err := app.FindCollectionByNameOrId(policy.Tickets)
	if err != nil {
		t.Fatal(err)
	}
	r := core.NewRecord(col)
	r.Set("customerId", customerId)
	r.Set("ticketContent", fmt.Sprintf("%05d", i)+strings.Repeat("a", 9995))
	if err := app.Save(r); err != nil {
		t.Fatal(err)
	}
	return r.Id
}

// abuse has a customer stop reading on a connection subscribed 50 times to
// its tickets, sends big tickets of it while an agent listens, and checks
// that the agent gets every one promptly and the stalled client is cut off.
func abuse(t *testing.T, counter func(realtime.Counts) int64) {
	app := testapp.New(t)
	url := testapp.Serve(t, app)
	before := counter(realtime.Stats())

	agent := testapp.ConnectSSE(t, url)
	agent.MustSubscribe(testapp.Token(t, testapp.Admin), "tickets/*")
	stalled := testapp.ConnectStalledSSE(t, url)
	stalled.MustSubscribe(testapp.Token(t, testapp.Owner), manyTopics(50)...)

	var slowest time.Duration
	for i := range 60 {
		at := time.Now()
		id := bigTicket(t, app, testapp.CustomerId, i)
		expectRecord(t, agent, "tickets/*", "create", id)
		slowest = max(slowest, time.Since(at))
	}
	if slowest > 2*time.Second {
		t.Errorf("the agent's slowest delivery took %v beside the stalled client", slowest)
	}
	deadline := time.Now().Add(15 * time.Second)
	for counter(realtime.Stats()) == before {
		if time.Now().After(deadline) {
			t.Fatal("the client that does not read was not cut off")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := app.SubscriptionsBroker().ClientById(stalled.ClientId); err == nil {
		t.Error("the cut client is still registered")
	}
	stalled.Resume()
	if !stalled.Ended(10 * time.Second) {
		t.Error("the cut client's stream did not end")
	}
}

func TestRealtimeClientThatDoesNotReadIsCutByTheWriteTimeout(t *testing.T) {
	t.Setenv("PORTAL_REALTIME_WRITE_TIMEOUT", "1s")
	t.Setenv("PORTAL_REALTIME_MAX_QUEUED_MESSAGES", "100000")
	t.Setenv("PORTAL_REALTIME_MAX_QUEUED_BYTES", "1000000000")
	abuse(t, func(c realtime.Counts) int64 { return c.CutSlow })
}

func TestRealtimeClientWithAFullQueueIsCut(t *testing.T) {
	t.Setenv("PORTAL_REALTIME_WRITE_TIMEOUT", "10m")
	abuse(t, func(c realtime.Counts) int64 { return c.CutQueueFull })
}

// A deleted agent hears nothing of the tickets its deletion frees: its
// connections are closed before they are announced.
func TestRealtimeDeletedAgentHearsNothingOfItsFreedTickets(t *testing.T) {
	app := testapp.New(t)
	url := testapp.Serve(t, app)
	boss := testapp.Token(t, testapp.SuperAdmin)
	other := testapp.ConnectSSE(t, url)
	other.MustSubscribe(testapp.Token(t, "other admin"), "tickets/*", realtime.AdminsRoom)

	violations := 0
	for round := range 20 {
		agent, token := newAdmin(t, app, fmt.Sprintf("leaving%02d", round))
		var held []string
		for range 3 {
			id := newTicket(t, app, testapp.CustomerId)
			r, err := app.FindRecordById(policy.Tickets, id)
			if err != nil {
				t.Fatal(err)
			}
			r.Set("takenBy", agent.Id)
			if err := app.Save(r); err != nil {
				t.Fatal(err)
			}
			held = append(held, id)
		}
		// the setup's events, heard by the other agent
		for range 9 {
			if _, ok := other.Next(10 * time.Second); !ok {
				t.Fatal("the other agent did not hear the setup")
			}
		}
		var listening []*testapp.SSE
		for range 3 {
			s := testapp.ConnectSSE(t, url)
			s.MustSubscribe(token, "tickets/*", realtime.AdminsRoom)
			listening = append(listening, s)
		}
		// news of the setup still on its way (the agent's own takes) is
		// not about the deletion: let it arrive before the delete
		for _, s := range listening {
			for {
				if _, ok := s.Next(quiet); !ok {
					break
				}
			}
		}
		if round%2 == 0 {
			mustCall(t, 200, "DELETE", url+"/deleteAdmin", boss, `{"adminId":"`+agent.Id+`"}`)
		} else {
			mustCall(t, 204, "DELETE", url+"/api/collections/admins/records/"+agent.Id, boss, "")
		}
		// the other agent hears every freed ticket
		for freed := 0; freed < len(held); {
			ev, ok := other.Next(10 * time.Second)
			if !ok {
				t.Fatalf("round %d: the other agent heard %d of %d freed tickets", round, freed, len(held))
			}
			if ev.Name != "tickets/*" {
				continue // the admin room's news of it
			}
			var got recordEvent
			ev.Decode(t, &got)
			if got.Action != "update" || got.Record["takenBy"] != "" {
				t.Fatalf("other agent heard %+v, want a freed ticket", got)
			}
			freed++
		}
		for _, s := range listening {
			for {
				ev, ok := s.Next(quiet)
				if !ok {
					break // stream ended, or quiet
				}
				violations++
				t.Errorf("round %d: the deleted agent heard %s %.80s", round, ev.Name, ev.Data)
			}
		}
	}
	if violations > 0 {
		t.Fatalf("%d events reached deleted agents in 20 rounds", violations)
	}
}
