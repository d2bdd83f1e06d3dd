package throttle_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"ticketportal/policy"
	"ticketportal/testapp"
)

// A customer's new tickets through /sendTicket and the record API share one
// budget of 20 a minute; another customer has its own.
func TestTicketBudgetIsSharedByRecordAPIAndSendTicket(t *testing.T) {
	s := serve(t)
	alice := s.token(policy.Users, testapp.CustomerId)
	viaAPI := func(ip string) (int, map[string]any) {
		return s.call(ip, http.MethodPost, "/api/collections/tickets/records", alice,
			`{"customerId":"`+testapp.CustomerId+`","ticketContent":"Help me, please."}`)
	}
	viaRoute := func(ip string) (int, map[string]any) {
		return s.call(ip, http.MethodPost, "/sendTicket", alice, `{"ticketContent":"Help me, please."}`)
	}
	for i := range 20 {
		send := viaAPI
		if i%2 == 1 {
			send = viaRoute
		}
		if status, b := send(ipN(i)); status != 200 && status != 201 {
			t.Fatalf("ticket %d: %d %s", i+1, status, b["raw"])
		}
	}
	for name, send := range map[string]func(string) (int, map[string]any){"record API": viaAPI, "/sendTicket": viaRoute} {
		status, b := send(ipN(60))
		if msg, _ := b["message"].(string); status != 429 || !strings.Contains(msg, "at most 20 in 1 minute for one customer") {
			t.Errorf("ticket 21 through %s: %d %s, want 429 naming the limit", name, status, b["raw"])
		}
	}
	// batch creates are record-API creates too
	batch := `{"requests":[{"method":"POST","url":"/api/collections/tickets/records","body":{"customerId":"` + testapp.CustomerId + `","ticketContent":"Batch"}}]}`
	if status, b := s.call(ipN(61), http.MethodPost, "/api/batch", alice, batch); status < 400 {
		t.Errorf("a batch create beyond the budget: %d %s", status, b["raw"])
	}
	bob := s.token(policy.Users, testapp.OtherCustomerId)
	if status, b := s.call(ipN(62), http.MethodPost, "/sendTicket", bob, `{"ticketContent":"Mine."}`); status != 201 {
		t.Errorf("bob's ticket: %d %s", status, b["raw"])
	}
}

// From one address the record API's ticket create is held to /sendTicket's
// 20 a minute (PocketBase's rate limiter), not PocketBase's 20 per 5 s: 20
// creates, a pause of more than 5 s, and the 21st is still refused.
func TestRecordAPITicketCreatePerAddressMatchesSendTicket(t *testing.T) {
	s := serve(t)
	const ip = "203.0.113.9"
	create := func(i int) (int, map[string]any) {
		id := testapp.CustomerId
		if i%2 == 1 {
			id = testapp.OtherCustomerId
		}
		return s.call(ip, http.MethodPost, "/api/collections/tickets/records", s.token(policy.Users, id), `{"customerId":"`+id+`","ticketContent":"Help."}`)
	}
	for i := range 20 {
		if status, b := create(i); status != 200 {
			t.Fatalf("create %d: %d %s", i+1, status, b["raw"])
		}
	}
	time.Sleep(5500 * time.Millisecond)
	if status, b := create(20); status != 429 {
		t.Fatalf("create 21 after 5.5 s: %d %s, want 429", status, b["raw"])
	}
}

// Load tests run with the rate limiter off or their IP excluded; the
// per-customer ticket budget follows those switches.
func TestTicketBudgetFollowsTheRateLimiterSwitches(t *testing.T) {
	s := serve(t)
	alice := s.token(policy.Users, testapp.CustomerId)
	s.app.Settings().RateLimits.ExcludedIPs = []string{"203.0.113.0/24"}
	for i := range 25 {
		if status, b := s.call("203.0.113.5", http.MethodPost, "/sendTicket", alice, `{"ticketContent":"Load."}`); status != 201 {
			t.Fatalf("ticket %d from an excluded IP: %d %s", i+1, status, b["raw"])
		}
	}
	s.app.Settings().RateLimits.Enabled = false
	for i := range 25 {
		if status, b := s.call(ipN(i), http.MethodPost, "/sendTicket", alice, `{"ticketContent":"Load."}`); status != 201 {
			t.Fatalf("ticket %d with rate limiting off: %d %s", i+1, status, b["raw"])
		}
	}
}
