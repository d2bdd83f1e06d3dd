package realtime_test

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/tools/subscriptions"

	"ticketportal/policy"
	"ticketportal/realtime"
	"ticketportal/testapp"
)

// A delete reaches exactly the subscriptions that could see the record
// before it went: by topic, role and filter, through both the checks on
// the request path (filters) and those after the commit.
func TestRealtimeDeleteReachesExactlyWhoCouldSeeIt(t *testing.T) {
	app := testapp.New(t)
	url := testapp.Serve(t, app)
	matching := `tickets/*?options={"query":{"filter":"isHighPriority = false"}}`
	notMatching := `tickets/*?options={"query":{"filter":"isHighPriority = true"}}`
	listen := func(kind string, topics ...string) *testapp.SSE {
		s := testapp.ConnectSSE(t, url)
		s.MustSubscribe(testapp.Token(t, kind), topics...)
		return s
	}
	alice := listen(testapp.Owner, "tickets/*", matching, notMatching)
	agent := listen(testapp.Admin, "tickets/"+testapp.TicketId)
	boss := listen(testapp.SuperAdmin, "tickets/*", notMatching)
	operator := listen(testapp.Operator, "tickets/*")
	bob := listen(testapp.OtherCustomer, "tickets/*", "tickets/"+testapp.TicketId, matching)
	guest := listen(testapp.Anonymous, "tickets/*", "tickets/"+testapp.TicketId)
	otherTicket := listen(testapp.Admin, "tickets/"+testapp.OtherTicketId)

	mustCall(t, 204, "DELETE", url+tickets+"/"+testapp.TicketId, testapp.Token(t, testapp.SuperAdmin), "")
	want := map[*testapp.SSE][]string{
		alice:    {"tickets/*", matching},
		agent:    {"tickets/" + testapp.TicketId},
		boss:     {"tickets/*"},
		operator: {"tickets/*"},
	}
	for s, topics := range want {
		heard := map[string]bool{}
		for range topics {
			ev, ok := s.Next(10 * time.Second)
			if !ok {
				t.Fatalf("heard %v, want %v", heard, topics)
			}
			var e recordEvent
			ev.Decode(t, &e)
			if e.Action != "delete" || e.Record["id"] != testapp.TicketId {
				t.Fatalf("%s: %+v, want the delete of %s", ev.Name, e, testapp.TicketId)
			}
			heard[ev.Name] = true
		}
		for _, topic := range topics {
			if !heard[topic] {
				t.Fatalf("heard %v, want %v", heard, topics)
			}
		}
	}
	for _, s := range []*testapp.SSE{alice, agent, boss, operator} {
		s.ExpectNothing(t, 100*time.Millisecond)
	}
	for _, s := range []*testapp.SSE{bob, guest, otherTicket} {
		s.ExpectNothing(t, quiet)
	}
}

// A burst of 1,000 updates with 2,000 clients, half of which never read:
// memory stays bounded (updates of one record coalesce for a client that
// fell behind; its queue is bounded), and every reading client ends with
// the last state of each record, in order.
func TestRealtimeBurstKeepsMemoryBounded(t *testing.T) {
	app := testapp.New(t)
	testapp.Serve(t, app)
	admin, err := app.FindRecordById(policy.Admins, testapp.AdminId)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for range 10 {
		ids = append(ids, newTicket(t, app, testapp.CustomerId))
	}
	const clients, events = 2000, 1000
	type last struct {
		mu    sync.Mutex
		count map[string]int // ticket id -> last counter heard
		bad   string
	}
	var readers []*last
	for i := range clients {
		c := subscriptions.NewDefaultClient()
		c.Set(apis.RealtimeClientAuthKey, admin)
		c.Subscribe("tickets/*")
		app.SubscriptionsBroker().Register(c)
		if i%2 == 1 {
			continue // never reads
		}
		l := &last{count: map[string]int{}}
		readers = append(readers, l)
		go func() {
			for m := range c.Channel() {
				id, n := burstState(m.Data)
				l.mu.Lock()
				if n < l.count[id] {
					l.bad = fmt.Sprintf("ticket %s: update %d after %d", id, n, l.count[id])
				}
				l.count[id] = n
				l.mu.Unlock()
			}
		}()
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	start := time.Now()
	defer func() { t.Logf("took %v", time.Since(start)) }()
	for i := 1; i <= events; i++ {
		r, err := app.FindRecordById(policy.Tickets, ids[i%len(ids)])
		if err != nil {
			t.Fatal(err)
		}
		r.Set("ticketContent", fmt.Sprintf("burst %d", i))
		if err := app.Save(r); err != nil {
			t.Fatal(err)
		}
	}
	lastOf := map[string]int{}
	for i := events - len(ids) + 1; i <= events; i++ {
		lastOf[ids[i%len(ids)]] = i
	}
	deadline := time.Now().Add(4 * time.Minute) // about 20 s on 2 idle cores
	for _, l := range readers {
		for {
			l.mu.Lock()
			done, bad := true, l.bad
			for id, n := range lastOf {
				if l.count[id] != n {
					done = false
				}
			}
			l.mu.Unlock()
			if bad != "" {
				t.Fatal(bad)
			}
			if done {
				break
			}
			if time.Now().After(deadline) {
				l.mu.Lock()
				t.Fatalf("a reading client did not get the last state of every ticket: heard %v, want %v (stats %+v)", l.count, lastOf, realtime.Stats())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	growth := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("heap %+.1f MiB after %d events to %d clients (%d coalesced so far)", float64(growth)/(1<<20), events, clients, realtime.Stats().Coalesced)
	if growth > 50<<20 {
		t.Fatalf("heap grew by %d MiB", growth>>20)
	}
}

// burstState reads the ticket id and the burst counter of an update
// message (cheaply: 1,000 clients read 1,000 of them).
func burstState(data []byte) (string, int) {
	field := func(name string) string {
		_, rest, ok := bytes.Cut(data, []byte(`"`+name+`":"`))
		if !ok {
			return ""
		}
		v, _, _ := bytes.Cut(rest, []byte(`"`))
		return string(v)
	}
	n, _ := strconv.Atoi(strings.TrimPrefix(field("ticketContent"), "burst "))
	return field("id"), n
}
