package throttle_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"ticketportal/mail"
	"ticketportal/policy"
	"ticketportal/testapp"
	"ticketportal/throttle"
)

// mailsTo waits until the outbox is idle and returns how many mails reached
// addr on the SMTP server.
func mailsTo(s *server, smtp *testapp.SMTPServer, addr string) int {
	count := func() int {
		n := 0
		for _, m := range smtp.Mails() {
			for _, to := range m.To {
				if strings.EqualFold(to, addr) {
					n++
				}
			}
		}
		return n
	}
	last := -1
	for range 20 { // until two readings a while apart agree
		time.Sleep(150 * time.Millisecond)
		mail.Flush(s.app)
		if n := count(); n == last {
			return n
		} else {
			last = n
		}
	}
	return last
}

func withSMTP(t *testing.T) (*server, *testapp.SMTPServer) {
	s := serve(t)
	smtp := testapp.StartSMTP(t)
	smtp.Use(t, s.app)
	return s, smtp
}

// The report's repro: 30 email changes to one victim with one token. With
// the defaults the victim gets one mail (one of a kind per address a
// minute); the other 29 are 429s naming the limit and change nothing.
func TestEmailChangeFloodMailsTheVictimOnce(t *testing.T) {
	s, smtp := withSMTP(t)
	alice := s.token(policy.Users, testapp.CustomerId)
	ok, limited := 0, 0
	for i := range 30 {
		status, b := s.call(ipN(i), http.MethodPatch, "/editProfile", alice, `{"email":"victim@example.com"}`)
		switch status {
		case 200:
			ok++
		case 429:
			limited++
			if msg, _ := b["message"].(string); !strings.Contains(msg, "Too many mails: at most 1 in 1 minute for one kind of mail to one address") {
				t.Fatalf("429 message %q", msg)
			}
		default:
			t.Fatalf("request %d: %d %s", i+1, status, b["raw"])
		}
	}
	if ok != 1 || limited != 29 {
		t.Errorf("%d answered 200 and %d 429, want 1 and 29", ok, limited)
	}
	if n := mailsTo(s, smtp, "victim@example.com"); n != 1 {
		t.Errorf("the victim got %d mails, want 1", n)
	}
}

// Over ten minutes one address gets at most 3 account mails whatever the
// path: the portal's /editProfile and PocketBase's request-email-change,
// from two accounts (the kind-and-address limit is lifted here so that the
// address limit shows within one test).
func TestOneAddressGetsAtMostThreeMailsOverEveryPath(t *testing.T) {
	s, smtp := withSMTP(t)
	l := throttle.Defaults
	l.MailPerKindAndAddress.Max = 0
	throttle.SetLimits(s.app, l)
	alice := s.token(policy.Users, testapp.CustomerId)
	bob := s.token(policy.Users, testapp.OtherCustomerId)
	for i := range 10 {
		tok := alice
		if i%2 == 1 {
			tok = bob
		}
		status, b := s.call(ipN(i), http.MethodPatch, "/editProfile", tok, `{"email":"victim@example.com"}`)
		if msg, _ := b["message"].(string); status != 200 && (status != 429 || !strings.Contains(msg, "at most 3 in 10 minutes for one address")) {
			t.Fatalf("/editProfile %d: %d %s", i+1, status, b["raw"])
		}
		// PocketBase's own endpoint answers 204 either way, and mails nobody beyond the budget
		if status, b := s.call(ipN(i), http.MethodPost, "/api/collections/users/request-email-change", tok, `{"newEmail":"victim@example.com"}`); status != 204 {
			t.Fatalf("request-email-change %d: %d %s", i+1, status, b["raw"])
		}
	}
	if n := mailsTo(s, smtp, "victim@example.com"); n != 3 {
		t.Errorf("the victim got %d mails, want 3", n)
	}
}

// One account causes at most 5 account mails in ten minutes, whatever the
// addresses.
func TestOneAccountCausesAtMostFiveMails(t *testing.T) {
	s, smtp := withSMTP(t)
	alice := s.token(policy.Users, testapp.CustomerId)
	sent := 0
	for i := range 8 {
		addr := "victim" + itoa(i) + "@example.com"
		status, b := s.call(ipN(i), http.MethodPatch, "/editProfile", alice, `{"email":"`+addr+`"}`)
		if status == 200 {
			sent++
		} else if msg, _ := b["message"].(string); status != 429 || !strings.Contains(msg, "at most 5 in 10 minutes for one account") {
			t.Fatalf("change %d: %d %s", i+1, status, b["raw"])
		}
	}
	total := 0
	for i := range 8 {
		total += mailsTo(s, smtp, "victim"+itoa(i)+"@example.com")
	}
	if sent != 5 || total != 5 {
		t.Errorf("%d changes accepted, %d mails sent; want 5 and 5", sent, total)
	}
}

// The public mail routes and PocketBase's endpoints share the kind
// budgets: asking for reset and verification mails for carol over every
// path mails her one of each.
func TestPublicMailPathsShareTheBudget(t *testing.T) {
	s, smtp := withSMTP(t)
	for i := range 4 {
		for _, c := range []struct{ path, body string }{
			{"/forgetPassword", `{"email":"carol@example.com"}`},
			{"/api/collections/users/request-password-reset", `{"email":"carol@example.com"}`},
			{"/resendVerification", `{"email":"carol@example.com"}`},
			{"/api/collections/users/request-verification", `{"email":"carol@example.com"}`},
		} {
			if status, b := s.call(ipN(i), http.MethodPost, c.path, "", c.body); status != 200 && status != 204 {
				t.Fatalf("%s: %d %s", c.path, status, b["raw"])
			}
		}
	}
	if n := mailsTo(s, smtp, "carol@example.com"); n != 2 {
		t.Errorf("carol got %d mails, want 2 (one reset, one verification)", n)
	}
}

// The sign-up's own verification mail does not hold back a resend asked
// for at once (the portal's pages offer one), but a second resend within
// the minute sends nothing.
func TestSignUpThenResendAtOnce(t *testing.T) {
	s, smtp := withSMTP(t)
	if status, b := s.call(ipN(1), http.MethodPost, "/signUp", "", `{"email":"dan@example.com","userName":"dan","password":"long-enough-1","confirmPassword":"long-enough-1","userFirstName":"Dan","userLastName":"Day","mobileNumber":"+1 555 0199"}`); status != 201 {
		t.Fatalf("sign-up: %d %s", status, b["raw"])
	}
	for range 3 {
		if status, b := s.call(ipN(2), http.MethodPost, "/resendVerification", "", `{"email":"dan@example.com"}`); status != 200 {
			t.Fatalf("resend: %d %s", status, b["raw"])
		}
	}
	if n := mailsTo(s, smtp, "dan@example.com"); n != 2 {
		t.Errorf("dan got %d mails, want 2 (sign-up, one resend)", n)
	}
}
