package realtime_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/tools/subscriptions"

	"ticketportal/policy"
	"ticketportal/realtime"
	"ticketportal/testapp"
)

// BenchmarkTicketWriteWithSubscribers measures how long a ticket update and
// a ticket create take over HTTP while n admins are subscribed to tickets/*,
// and how long until every subscriber has the event (delivered-ms/op).
//
//	GOTOOLCHAIN=go1.27.3 go test ./hooks -run '^$' -bench TicketWrite -benchtime 20x
func BenchmarkTicketWriteWithSubscribers(b *testing.B) {
	for _, n := range []int{0, 1000} {
		b.Run(fmt.Sprintf("update/subscribers=%d", n), func(b *testing.B) {
			url, received := benchServer(b, n, 0)
			boss := testapp.Token(b, testapp.SuperAdmin)
			benchWrites(b, n, received, func(i int) {
				benchRequest(b, "PATCH", url+"/api/collections/tickets/records/"+testapp.TicketId, boss,
					fmt.Sprintf(`{"isHighPriority":%v}`, i%2 == 0))
			})
		})
		b.Run(fmt.Sprintf("create/subscribers=%d", n), func(b *testing.B) {
			url, received := benchServer(b, n, 0)
			alice := testapp.Token(b, testapp.Owner)
			benchWrites(b, n, received, func(int) {
				benchRequest(b, "POST", url+"/api/collections/tickets/records", alice,
					`{"customerId":"`+testapp.CustomerId+`","ticketContent":"Where is my parcel?"}`)
			})
		})
	}
}

// BenchmarkTicketCreateMixedSubscribers is a create with 10% agents and 90%
// customers subscribed to tickets/* (customers of another account, who must
// hear nothing of it).
//
//	GOTOOLCHAIN=go1.27.3 go test ./hooks -run '^$' -bench MixedSubscribers -benchtime 20x
func BenchmarkTicketCreateMixedSubscribers(b *testing.B) {
	for _, side := range []string{"portal", "pocketbase"} {
		for _, n := range []int{1000, 5000, 10000} {
			b.Run(fmt.Sprintf("%s/subscribers=%d", side, n), func(b *testing.B) {
				realtime.UsePocketBaseBroadcaster(side == "pocketbase")
				defer realtime.UsePocketBaseBroadcaster(false)
				benchMixed(b, n)
			})
		}
	}
}

func benchMixed(b *testing.B, n int) {
	url, received := benchServer(b, n/10, n-n/10)
	alice := testapp.Token(b, testapp.Owner)
	benchWrites(b, n/10, received, func(int) {
		benchRequest(b, "POST", url+"/api/collections/tickets/records", alice,
			`{"customerId":"`+testapp.CustomerId+`","ticketContent":"Where is my parcel?"}`)
	})
	if got := received.Load(); got != int64(n/10) {
		b.Fatalf("%d messages, want %d (the agents only)", got, n/10)
	}
}

// benchWrites times write(i) b.N times and waits after each until all n
// subscribers have received its event.
func benchWrites(b *testing.B, n int, received *atomic.Int64, write func(i int)) {
	var request, delivery time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		received.Store(0)
		start := time.Now()
		write(i)
		request += time.Since(start)
		for received.Load() < int64(n) {
			time.Sleep(100 * time.Microsecond)
		}
		delivery += time.Since(start)
	}
	b.StopTimer()
	b.ReportMetric(float64(request.Microseconds())/float64(b.N)/1000, "request-ms/op")
	b.ReportMetric(float64(delivery.Microseconds())/float64(b.N)/1000, "delivered-ms/op")
}

// benchServer serves a fresh app with n in-process realtime clients
// authenticated as an admin and others authenticated as bob (a customer),
// each subscribed to tickets/*, and counts the messages they receive.
func benchServer(b *testing.B, n, others int) (string, *atomic.Int64) {
	app := testapp.New(b)
	url := testapp.Serve(b, app)
	admin, err := app.FindRecordById(policy.Admins, testapp.AdminId)
	if err != nil {
		b.Fatal(err)
	}
	bob, err := app.FindRecordById(policy.Users, testapp.OtherCustomerId)
	if err != nil {
		b.Fatal(err)
	}
	received := new(atomic.Int64)
	for i := 0; i < n+others; i++ {
		c := subscriptions.NewDefaultClient()
		if i < n {
			c.Set(apis.RealtimeClientAuthKey, admin)
		} else {
			c.Set(apis.RealtimeClientAuthKey, bob)
		}
		c.Subscribe("tickets/*")
		app.SubscriptionsBroker().Register(c)
		go func() {
			for range c.Channel() {
				received.Add(1)
			}
		}()
	}
	return url, received
}

func benchRequest(b *testing.B, method, url, token, body string) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode >= 300 {
		b.Fatalf("%s %s: %d", method, url, res.StatusCode)
	}
}
