package routes_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/policy"
	"ticketportal/testapp"
)

// BenchmarkConversation prints the conversation's figures, each beside
// PocketBase's own way of doing the same thing, measured in the same run on
// the same data (a real HTTP server on loopback, sequential requests):
//
//	go test ./routes -run '^$' -bench Conversation -benchtime 1x
//
//   - /getTicket on a ticket with 500 messages vs the record view with
//     expand=messages_via_ticket;
//   - /replyOnTicket vs a reply created through the record API;
//   - a customer owning 20,000 tickets: the record API list of its tickets vs
//     /getUserTickets; an agent's active queue at 100,000 tickets: the record
//     API list vs /getAllActiveTickets.
func BenchmarkConversation(b *testing.B) {
	app := testapp.New(b)
	seedBench(b, app)
	app.Settings().RateLimits.Enabled = false // the figures measure the work, not the throttles
	url := testapp.Serve(b, app)
	alice, agent := testapp.Token(b, testapp.Owner), testapp.Token(b, testapp.Admin)

	for range b.N {
		pair(b, "getTicket, 500 messages", 200,
			side{"custom /getTicket", func(int) (int, []byte) { return call(b, "GET", url+"/getTicket/"+testapp.TicketId, alice, "") }},
			side{"record view + expand", func(int) (int, []byte) {
				return call(b, "GET", url+"/api/collections/tickets/records/"+testapp.TicketId+"?expand=messages_via_ticket", alice, "")
			}})
		pair(b, "reply", 300,
			side{"custom /replyOnTicket", func(i int) (int, []byte) {
				return call(b, "POST", url+"/replyOnTicket/"+testapp.OtherTicketId, testapp.Token(b, testapp.OtherCustomer), fmt.Sprintf(`{"reply":"Reply %d."}`, i+100))
			}},
			side{"record create", func(i int) (int, []byte) {
				return call(b, "POST", url+"/api/collections/messages/records", testapp.Token(b, testapp.OtherCustomer),
					fmt.Sprintf(`{"ticket":"%s","kind":"reply","body":"Reply %d.","authorId":"%s"}`, testapp.OtherTicketId, i, testapp.OtherCustomerId))
			}})
		pair(b, "customer's list, 20,000 own tickets", 300,
			side{"custom /getUserTickets", func(int) (int, []byte) { return call(b, "GET", url+"/getUserTickets", alice, "") }},
			side{"record API list", func(int) (int, []byte) {
				return call(b, "GET", url+"/api/collections/tickets/records?sort=-createdAt&skipTotal=1", alice, "")
			}})
		pair(b, "agent's active queue, 100,000 tickets", 300,
			side{"custom /getAllActiveTickets", func(int) (int, []byte) { return call(b, "GET", url+"/getAllActiveTickets", agent, "") }},
			side{"record API list", func(int) (int, []byte) {
				return call(b, "GET", url+"/api/collections/tickets/records?sort=-createdAt&skipTotal=1", agent, "")
			}})
	}
}

type side struct {
	name string
	do   func(i int) (int, []byte)
}

// pair runs n requests of each side, interleaved (custom, PocketBase,
// custom, ...) after a warm-up so that both see the same machine load, and
// prints p50, requests per second of busy time and the custom side's
// throughput as a ratio of PocketBase's.
func pair(b *testing.B, name string, n int, custom, builtin side) {
	b.Helper()
	sides := []side{custom, builtin}
	lat := [2][]time.Duration{}
	busy := [2]time.Duration{}
	for i := -10; i < n; i++ {
		for k, s := range sides {
			t0 := time.Now()
			if status, body := s.do(i); status >= 300 {
				b.Fatalf("%s %s: %d %s", name, s.name, status, body)
			}
			if i >= 0 {
				d := time.Since(t0)
				lat[k] = append(lat[k], d)
				busy[k] += d
			}
		}
	}
	p50 := func(l []time.Duration) time.Duration {
		sort.Slice(l, func(i, j int) bool { return l[i] < l[j] })
		return l[len(l)/2]
	}
	cp, bp := p50(lat[0]), p50(lat[1])
	cr, br := float64(n)/busy[0].Seconds(), float64(n)/busy[1].Seconds()
	b.Logf("%-40s %-28s p50 %8s %6.0f req/s | %-22s p50 %8s %6.0f req/s | custom/PocketBase %.2fx (p50 ratio %.2fx)",
		name, custom.name, cp.Round(10*time.Microsecond), cr, builtin.name, bp.Round(10*time.Microsecond), br, cr/br, float64(bp)/float64(cp))
}

// seedBench writes 500 messages on alice's ticket, 20,000 more tickets of
// alice and 80,000 of bob (half of them closed) with plain SQL: the data of
// the figures, not of the hooks.
func seedBench(b *testing.B, app *tests.TestApp) {
	b.Helper()
	exec := func(q string, p dbx.Params) {
		if _, err := app.DB().NewQuery(q).Bind(p).Execute(); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
		INSERT INTO messages (id, ticket, kind, body, authorId, authorName, createdAt, updatedAt)
		SELECT printf('bm%013d', i), {:t}, CASE i % 3 WHEN 0 THEN 'note' WHEN 1 THEN 'answer' ELSE 'reply' END,
			'Message number ' || i || ' of a long conversation about exporting data.', {:a}, 'agent1',
			strftime('%Y-%m-%d %H:%M:%fZ', '2026-01-01', '+' || i || ' minutes'), strftime('%Y-%m-%d %H:%M:%fZ', '2026-01-01', '+' || i || ' minutes')
		FROM n`, dbx.Params{"t": testapp.TicketId, "a": testapp.AdminId})
	exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
		INSERT INTO tickets (id, customerId, customerUserName, ticketContent, ticketSubject, ticketStatus, waitingOn, tags, createdAt, updatedAt)
		SELECT printf('bt%013d', i), CASE WHEN i <= 20000 THEN {:alice} ELSE {:bob} END, 'x', 'Seeded ticket ' || i, 'Seeded ticket ' || i,
			CASE WHEN i % 2 = 0 THEN 'closed' ELSE 'active' END, 'agent', '[]',
			strftime('%Y-%m-%d %H:%M:%fZ', '2025-01-01', '+' || i || ' minutes'), strftime('%Y-%m-%d %H:%M:%fZ', '2025-01-01', '+' || i || ' minutes')
		FROM n`, dbx.Params{"alice": testapp.CustomerId, "bob": testapp.OtherCustomerId})
	n, _ := app.CountRecords(policy.Tickets)
	b.Logf("seeded: %d tickets, 500 messages on %s", n, testapp.TicketId)
}
