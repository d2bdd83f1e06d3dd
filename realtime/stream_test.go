package realtime_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"ticketportal/realtime"
	"ticketportal/testapp"
)

// With a budget of one write a second, a connection that was just written
// to waits up to a second before the next write: a burst of tickets reaches
// the agent in a few writes, every one of them, in the order of the writes.
// The first event after a quiet while goes out at once.
func TestRealtimePacedConnectionGetsABurstInFewWritesInOrder(t *testing.T) {
	t.Setenv("PORTAL_REALTIME_WRITES_PER_SECOND", "1")
	app := testapp.New(t)
	url := testapp.Serve(t, app)
	agent := testapp.ConnectSSE(t, url)
	agent.MustSubscribe(testapp.Token(t, testapp.Admin), "tickets/*")

	before := realtime.Stats()
	start := time.Now()
	first := newTicket(t, app, testapp.CustomerId)
	expectRecord(t, agent, "tickets/*", "create", first)
	if took := time.Since(start); took > 700*time.Millisecond { // a paced write waits at least 750 ms here
		t.Errorf("the first event after a quiet while took %v: it must not wait for the pacing", took)
	}

	var ids []string
	for range 30 {
		ids = append(ids, newTicket(t, app, testapp.CustomerId))
	}
	for _, id := range ids {
		expectRecord(t, agent, "tickets/*", "create", id)
	}
	after := realtime.Stats()
	writes, msgs := after.Writes-before.Writes, after.MessagesWritten-before.MessagesWritten
	if msgs != 31 {
		t.Fatalf("%d messages written for 31 tickets, want 31", msgs)
	}
	if writes > 10 { // at least three messages a write
		t.Errorf("31 tickets in %d writes: the pacing did not batch them", writes)
	}
}

// A client that goes away (its tab closed) is noticed: it leaves the
// broker, and its place under the per-account bound is freed.
func TestRealtimeClientThatLeavesIsForgotten(t *testing.T) {
	t.Setenv("PORTAL_REALTIME_MAX_CONNECTIONS_PER_ACCOUNT", "1")
	app := testapp.New(t)
	url := testapp.Serve(t, app)
	token := testapp.Token(t, testapp.Admin)
	s := testapp.ConnectSSE(t, url)
	s.MustSubscribe(token, "tickets/*")
	if _, err := app.SubscriptionsBroker().ClientById(s.ClientId); err != nil {
		t.Fatalf("the connected client is not registered: %v", err)
	}
	s.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := app.SubscriptionsBroker().ClientById(s.ClientId); err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the client that left is still registered")
		}
		time.Sleep(20 * time.Millisecond)
	}
	again := testapp.ConnectSSE(t, url)
	again.MustSubscribe(token, "tickets/*") // the account's only place is free again
	id := newTicket(t, app, testapp.CustomerId)
	expectRecord(t, again, "tickets/*", "create", id)
}

// Records of collections other than tickets and messages are still
// PocketBase's to broadcast: a connection subscribed to one hears it, also
// when it subscribes while nobody else listens to that collection, and the
// others hear nothing of it.
func TestRealtimeOtherCollectionsAreHeardBySubscribers(t *testing.T) {
	app := testapp.New(t)
	url := testapp.Serve(t, app)
	agent := testapp.Token(t, testapp.Admin)
	tickets := testapp.ConnectSSE(t, url)
	tickets.MustSubscribe(agent, "tickets/*")
	history := testapp.ConnectSSE(t, url)
	history.MustSubscribe(agent, "ticketHistory/*")

	mustCall(t, 200, "PATCH", url+"/api/collections/tickets/records/"+testapp.TicketId, agent, `{"tags":["billing"]}`)
	var ev recordEvent
	history.Expect(t, "ticketHistory/*").Decode(t, &ev)
	if ev.Action != "create" || ev.Record["ticket"] != testapp.TicketId || ev.Record["event"] != "tagged" {
		t.Fatalf("history event %+v, want the create of the tagged line of %s", ev, testapp.TicketId)
	}
	expectRecord(t, tickets, "tickets/*", "update", testapp.TicketId)
	tickets.ExpectNothing(t, quiet)

	// once the only listener leaves, nobody hears the next line, and a new
	// listener hears the one after
	history.Close()
	mustCall(t, 200, "PATCH", url+"/api/collections/tickets/records/"+testapp.TicketId, agent, `{"tags":["billing","vip"]}`)
	expectRecord(t, tickets, "tickets/*", "update", testapp.TicketId)
	late := testapp.ConnectSSE(t, url)
	late.MustSubscribe(agent, fmt.Sprintf("ticketHistory/*?options=%s", `{"query":{"fields":"ticket,event"}}`))
	mustCall(t, 200, "PATCH", url+"/api/collections/tickets/records/"+testapp.TicketId, agent, `{"tags":["vip"]}`)
	var line recordEvent
	late.Expect(t, `ticketHistory/*?options={"query":{"fields":"ticket,event"}}`).Decode(t, &line)
	if line.Record["ticket"] != testapp.TicketId || line.Record["event"] != "tagged" || len(line.Record) != 2 {
		t.Fatalf("late listener's event %+v, want only ticket and event of the tagged line", line)
	}
}

// A client that stops reading for a while, long enough for its socket to
// fill (the flusher hands the rest of its write back to the connection's
// goroutine), and then reads again before the write timeout gets every
// message, whole and in order, and is not cut off.
func TestRealtimeClientThatStallsAndResumesGetsEverythingInOrder(t *testing.T) {
	t.Setenv("PORTAL_REALTIME_MAX_QUEUED_BYTES", strconv.Itoa(256<<20))
	t.Setenv("PORTAL_REALTIME_MAX_QUEUED_MESSAGES", "100000")
	app := testapp.New(t)
	url := testapp.Serve(t, app)
	before := realtime.Stats()
	stalled := testapp.ConnectStalledSSE(t, url)
	topics := manyTopics(50)
	stalled.MustSubscribe(testapp.Token(t, testapp.Owner), topics...)

	// 10 KB tickets heard on 50 topics: 500 KB a ticket
	var ids []string
	deadline := time.Now().Add(20 * time.Second)
	for realtime.Stats().HandedBack == before.HandedBack {
		if time.Now().After(deadline) || len(ids) == 200 {
			t.Fatalf("no write was handed back after %d tickets to a client that does not read", len(ids))
		}
		ids = append(ids, bigTicket(t, app, testapp.CustomerId, len(ids)))
		time.Sleep(10 * time.Millisecond)
	}
	ids = append(ids, bigTicket(t, app, testapp.CustomerId, len(ids))) // one more behind the handed-back write

	stalled.Resume()
	for _, id := range ids {
		seen := map[string]bool{}
		for range topics {
			ev, ok := stalled.Next(10 * time.Second)
			if !ok {
				t.Fatalf("the stream ended or fell silent before every event of ticket %s arrived", id)
			}
			var got recordEvent
			ev.Decode(t, &got)
			if got.Action != "create" || got.Record["id"] != id || seen[ev.Name] {
				t.Fatalf("event %s: %s of %v, want one create of %s on each topic, in order", ev.Name, got.Action, got.Record["id"], id)
			}
			seen[ev.Name] = true
		}
	}
	after := realtime.Stats()
	if after.CutSlow != before.CutSlow || after.CutQueueFull != before.CutQueueFull {
		t.Errorf("a client that resumed reading within the write timeout was cut off: %+v", after)
	}
}
