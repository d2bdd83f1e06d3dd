package throttle_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"ticketportal/policy"
	"ticketportal/testapp"
)

// guess is one wrong-password attempt on one path.
type guess struct {
	name  string
	wrong int // the status of a wrong password below the limit
	send  func(s *server, ip, password string) (int, map[string]any)
}

// customerGuesses are every path that checks alice's password.
func customerGuesses(s *server) []guess {
	alice := s.token(policy.Users, testapp.CustomerId)
	change := s.emailChangeToken(policy.Users, testapp.CustomerId, "alice.new@example.com")
	return []guess{
		{"/login by user name", 401, func(s *server, ip, pw string) (int, map[string]any) {
			return s.call(ip, "POST", "/login", "", `{"userName":"alice","password":"`+pw+`"}`)
		}},
		{"/login by email", 401, func(s *server, ip, pw string) (int, map[string]any) {
			return s.call(ip, "POST", "/login", "", `{"userName":"ALICE@example.com","password":"`+pw+`","role":"user"}`)
		}},
		{"users auth-with-password", 400, func(s *server, ip, pw string) (int, map[string]any) {
			return s.call(ip, "POST", "/api/collections/users/auth-with-password", "", `{"identity":"alice","password":"`+pw+`"}`)
		}},
		{"/changePassword", 400, func(s *server, ip, pw string) (int, map[string]any) {
			return s.call(ip, "PATCH", "/changePassword", alice, `{"oldPassword":"`+pw+`","password":"brand-new-pass","confirmPassword":"brand-new-pass"}`)
		}},
		{"record API oldPassword", 400, func(s *server, ip, pw string) (int, map[string]any) {
			return s.call(ip, "PATCH", "/api/collections/users/records/"+testapp.CustomerId, alice, `{"oldPassword":"`+pw+`","password":"brand-new-pass","passwordConfirm":"brand-new-pass"}`)
		}},
		{"POST /confirmEmailChange", 400, func(s *server, ip, pw string) (int, map[string]any) {
			return s.call(ip, "POST", "/confirmEmailChange", "", `{"token":"`+change+`","password":"`+pw+`"}`)
		}},
		{"PocketBase confirm-email-change", 400, func(s *server, ip, pw string) (int, map[string]any) {
			return s.call(ip, "POST", "/api/collections/users/confirm-email-change", "", `{"token":"`+change+`","password":"`+pw+`"}`)
		}},
	}
}

// agentGuesses are the paths that check agent1's password.
func agentGuesses(s *server) []guess {
	agent := s.token(policy.Admins, testapp.AdminId)
	return []guess{
		{"/login as admin", 401, func(s *server, ip, pw string) (int, map[string]any) {
			return s.call(ip, "POST", "/login", "", `{"userName":"agent1","password":"`+pw+`","role":"admin"}`)
		}},
		{"admins auth-with-password", 400, func(s *server, ip, pw string) (int, map[string]any) {
			return s.call(ip, "POST", "/api/collections/admins/auth-with-password", "", `{"identity":"agent1@example.com","password":"`+pw+`"}`)
		}},
		{"/changePassword", 400, func(s *server, ip, pw string) (int, map[string]any) {
			return s.call(ip, "PATCH", "/changePassword", agent, `{"oldPassword":"`+pw+`","password":"brand-new-pass","confirmPassword":"brand-new-pass"}`)
		}},
		{"record API oldPassword", 400, func(s *server, ip, pw string) (int, map[string]any) {
			return s.call(ip, "PATCH", "/api/collections/admins/records/"+testapp.AdminId, agent, `{"oldPassword":"`+pw+`","password":"brand-new-pass","passwordConfirm":"brand-new-pass"}`)
		}},
	}
}

// Twenty wrong passwords on one account, spread over every path and sent
// from twenty addresses, use up the account's budget: the next try on any
// path is a 429 naming the limit, the right password included, while
// another account is untouched.
func TestPasswordGuessesOnOneAccountShareOneBudgetOverEveryPath(t *testing.T) {
	for name, paths := range map[string]func(*server) []guess{"customer": customerGuesses, "agent": agentGuesses} {
		t.Run(name, func(t *testing.T) {
			s := serve(t)
			gs := paths(s)
			for i := range 20 {
				g := gs[i%len(gs)]
				if status, body := g.send(s, ipN(i), fmt.Sprintf("wrong-guess-%02d", i)); status != g.wrong {
					t.Fatalf("guess %d on %s: %d %s, want %d", i+1, g.name, status, body["raw"], g.wrong)
				}
			}
			for i, g := range gs {
				status, body := g.send(s, ipN(100+i), "wrong-guess-21")
				if status != http.StatusTooManyRequests {
					t.Fatalf("guess 21 on %s: %d %s, want 429", g.name, status, body["raw"])
				}
				msg, _ := body["message"].(string)
				if !strings.Contains(msg, "at most 20 in 1 minute for one account") {
					t.Errorf("the 429 on %s does not name the limit: %q", g.name, msg)
				}
				// the right password gets the same answer: a 429 says nothing about the password
				if status, body := g.send(s, ipN(120+i), testapp.Password); status != http.StatusTooManyRequests {
					t.Errorf("the right password on %s during the lock: %d %s", g.name, status, body["raw"])
				}
			}
			// bob is another account: his budget is whole
			if status, body := s.call(ipN(200), "POST", "/login", "", `{"userName":"bob","password":"`+testapp.Password+`"}`); status != 200 {
				t.Errorf("bob's login: %d %s", status, body["raw"])
			}
		})
	}
}

// An identity nobody has gets the same budget as an account, so a 429 is
// no sign that an account exists.
func TestUnknownIdentityIsThrottledLikeAnAccount(t *testing.T) {
	s := serve(t)
	for i := range 20 {
		path, body, want := "/login", `{"userName":"nobody","password":"wrong-guess"}`, 401
		if i%2 == 1 {
			path, body, want = "/api/collections/users/auth-with-password", `{"identity":"nobody","password":"wrong-guess"}`, 400
		}
		if status, b := s.call(ipN(i), "POST", path, "", body); status != want {
			t.Fatalf("guess %d: %d %s", i+1, status, b["raw"])
		}
	}
	if status, b := s.call(ipN(50), "POST", "/login", "", `{"userName":"nobody","password":"wrong-guess"}`); status != 429 {
		t.Fatalf("guess 21 on an unknown name: %d %s, want 429 as for an account", status, b["raw"])
	}
}

// Twenty wrong passwords from one address, over several accounts and
// paths, use up the address's budget; another address is not affected.
func TestPasswordGuessesFromOneAddressShareOneBudget(t *testing.T) {
	s := serve(t)
	alice := s.token(policy.Users, testapp.CustomerId)
	tries := []struct {
		method, path, token, body string
		want                      int
	}{
		{"POST", "/login", "", `{"userName":"alice","password":"wrong-guess"}`, 401},
		{"POST", "/login", "", `{"userName":"nobody1","password":"wrong-guess"}`, 401},
		{"POST", "/api/collections/users/auth-with-password", "", `{"identity":"bob","password":"wrong-guess"}`, 400},
		{"POST", "/api/collections/admins/auth-with-password", "", `{"identity":"agent1","password":"wrong-guess"}`, 400},
		{"POST", "/api/collections/_superusers/auth-with-password", "", `{"identity":"operator@example.com","password":"wrong-guess"}`, 400},
		{"PATCH", "/changePassword", alice, `{"oldPassword":"wrong-guess","password":"brand-new-pass","confirmPassword":"brand-new-pass"}`, 400},
		{"PATCH", "/api/collections/users/records/" + testapp.CustomerId, alice, `{"oldPassword":"wrong-guess","password":"brand-new-pass","passwordConfirm":"brand-new-pass"}`, 400},
	}
	const ip = "203.0.113.7"
	for i := range 20 {
		c := tries[i%len(tries)]
		if status, b := s.call(ip, c.method, c.path, c.token, c.body); status != c.want {
			t.Fatalf("try %d %s: %d %s, want %d", i+1, c.path, status, b["raw"], c.want)
		}
	}
	status, b := s.call(ip, "POST", "/login", "", `{"userName":"carol","password":"wrong-guess"}`)
	if msg, _ := b["message"].(string); status != 429 || !strings.Contains(msg, "for one client address") {
		t.Fatalf("try 21 from the address on a fresh account: %d %s, want 429 naming the address", status, b["raw"])
	}
	if status, b := s.call("203.0.113.8", "POST", "/login", "", `{"userName":"bob","password":"`+testapp.Password+`"}`); status != 200 {
		t.Fatalf("another address: %d %s", status, b["raw"])
	}
	// an operator may exclude an office's address (Settings → Rate limits)
	s.app.Settings().RateLimits.ExcludedIPs = []string{"203.0.113.0/24"}
	if status, b := s.call(ip, "POST", "/login", "", `{"userName":"bob","password":"`+testapp.Password+`"}`); status != 200 {
		t.Fatalf("an excluded address: %d %s", status, b["raw"])
	}
}

// Right passwords are not counted: a user who logs in many times is never
// throttled by the password budget.
func TestRightPasswordsAreNotCounted(t *testing.T) {
	s := serve(t)
	for i := range 25 {
		if status, b := s.call(ipN(i), "POST", "/api/collections/users/auth-with-password", "", `{"identity":"alice","password":"`+testapp.Password+`"}`); status != 200 {
			t.Fatalf("login %d: %d %s", i+1, status, b["raw"])
		}
	}
}

// Forty wrong passwords sent at once on one account: exactly twenty are
// checked, the rest are 429s (the check is taken before the password is
// compared, so concurrent guesses cannot slip past the limit).
func TestConcurrentGuessesStayWithinTheBudget(t *testing.T) {
	s := serve(t)
	statuses := make(chan int, 40)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path, body := "/login", `{"userName":"alice","password":"wrong-guess"}`
			if i%2 == 1 {
				path, body = "/api/collections/users/auth-with-password", `{"identity":"alice@example.com","password":"wrong-guess"}`
			}
			status, _ := s.call(ipN(i), "POST", path, "", body)
			statuses <- status
		}()
	}
	wg.Wait()
	close(statuses)
	checked, limited := 0, 0
	for st := range statuses {
		switch st {
		case 400, 401:
			checked++
		case 429:
			limited++
		default:
			t.Errorf("status %d", st)
		}
	}
	if checked != 20 || limited != 20 {
		t.Errorf("%d checked and %d refused, want 20 and 20", checked, limited)
	}
}
