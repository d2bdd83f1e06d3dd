package inbound_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/inbound"
	"ticketportal/policy"
	"ticketportal/testapp"
)

// BenchmarkInboundThroughput sends n customer replies as mails over 4 SMTP
// connections to the receiver (the worker threading them as they come),
// and, in the same run, the same n replies through PocketBase's record API
// (POST /api/collections/messages/records, 4 concurrent clients): the
// built-in way of adding a reply. It prints mails accepted per second (250
// answers), replies threaded end to end per second (the first mail sent to
// the last reply on its ticket), the p50/p99 of 250 → reply visible, and
// the record API's rate and latency, with the ratio. Every mail must land
// exactly once.
func BenchmarkInboundThroughput(b *testing.B) {
	const n, conns = 1000, 4
	for range b.N {
		e := newEnvTB(b)
		app := e.app
		// as the binary opens data.db (package durability): every commit
		// is fsynced, for the mail path and the record API alike
		if _, err := app.NonconcurrentDB().NewQuery("PRAGMA synchronous = FULL").Execute(); err != nil {
			b.Fatal(err)
		}

		var mu sync.Mutex
		visible := map[string]time.Time{}
		app.OnRecordAfterCreateSuccess(policy.Messages).BindFunc(func(ev *core.RecordEvent) error {
			mu.Lock()
			visible[ev.Record.GetString("body")] = time.Now()
			mu.Unlock()
			return ev.Next()
		})
		inbound.StartWorker(app)

		accepted := make([]time.Time, n)
		began := time.Now()
		var wg sync.WaitGroup
		for c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cl, err := smtp.Dial(e.addr)
				if err != nil {
					b.Error(err)
					return
				}
				defer cl.Close()
				_ = cl.Hello("bench.example")
				for i := c; i < n; i += conns {
					raw := mailText("alice@example.com", supportAddr, "Re: [#"+testapp.TicketId+"] export", fmt.Sprintf("bench-%d@x", i), "", fmt.Sprintf("mail reply %d", i))
					if err := transact(cl, "alice@example.com", []string{supportAddr}, raw); err != nil {
						b.Error(err)
						return
					}
					accepted[i] = time.Now()
				}
			}()
		}
		wg.Wait()
		acceptedAll := time.Since(began)
		deadline := time.Now().Add(2 * time.Minute)
		for {
			mu.Lock()
			k := len(visible)
			mu.Unlock()
			if k >= n || time.Now().After(deadline) {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		inbound.StopWorker(app)
		var lat []time.Duration
		var last time.Time
		for i := range n {
			v, ok := visible[fmt.Sprintf("mail reply %d", i)]
			if !ok {
				b.Fatalf("mail %d never landed", i)
			}
			lat = append(lat, v.Sub(accepted[i]))
			if v.After(last) {
				last = v
			}
		}
		var count int
		_ = app.DB().NewQuery("SELECT COUNT(*) FROM messages WHERE ticket = {:t} AND body LIKE 'mail reply %'").Bind(map[string]any{"t": testapp.TicketId}).Row(&count)
		if count != n {
			b.Fatalf("%d replies on the ticket for %d mails", count, n)
		}
		threaded := last.Sub(began)

		// the same replies through PocketBase's record API
		srv := testapp.Serve(b, app)
		app.Settings().RateLimits.Enabled = false
		token := testapp.Token(b, testapp.Owner)
		apiLat := make([]time.Duration, n)
		client := &http.Client{}
		began = time.Now()
		for c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := c; i < n; i += conns {
					body := fmt.Sprintf(`{"ticket":%q,"kind":"reply","body":"api reply %d","authorId":%q}`, testapp.TicketId, i, testapp.CustomerId)
					req, _ := http.NewRequest(http.MethodPost, srv+"/api/collections/messages/records", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "Bearer "+token)
					t0 := time.Now()
					res, err := client.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					res.Body.Close()
					if res.StatusCode != 200 {
						b.Errorf("record API: %d", res.StatusCode)
						return
					}
					apiLat[i] = time.Since(t0)
				}
			}()
		}
		wg.Wait()
		api := time.Since(began)

		b.ReportMetric(n/acceptedAll.Seconds(), "accepted-mails/s")
		b.ReportMetric(n/threaded.Seconds(), "threaded-mails/s")
		b.ReportMetric(ms(pct(lat, 50)), "p50-250-to-visible-ms")
		b.ReportMetric(ms(pct(lat, 99)), "p99-250-to-visible-ms")
		b.ReportMetric(n/api.Seconds(), "recordapi-replies/s")
		b.ReportMetric(ms(pct(apiLat, 50)), "recordapi-p50-ms")
		b.ReportMetric(ms(pct(apiLat, 99)), "recordapi-p99-ms")
		b.ReportMetric(api.Seconds()/threaded.Seconds(), "threaded-vs-recordapi-ratio")
	}
}

func pct(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
