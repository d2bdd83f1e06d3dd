package routes_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/testapp"
)

// The whole account paths over real HTTP, with the mail going through a
// real SMTP server and the links read out of the received mails.

const mailWait = 15 * time.Second

// servedWithSMTP serves a fresh app whose mail goes to a real SMTP server,
// and whose application URL is the served one, so mailed links work.
func servedWithSMTP(t *testing.T) (*tests.TestApp, string, *testapp.SMTPServer) {
	t.Helper()
	app := testapp.New(t)
	srv := testapp.StartSMTP(t)
	srv.Use(t, app)
	base := testapp.Serve(t, app)
	app.Settings().Meta.AppURL = base
	return app, base, srv
}

func mustStatus(t *testing.T, what string, want, got int, body map[string]any) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: status %d, want %d: %v", what, got, want, body["_raw"])
	}
}

func TestSignUpVerifyLoginFlow(t *testing.T) {
	_, base, srv := servedWithSMTP(t)

	status, b := acctCall(t, http.MethodPost, base+"/signUp", "", daveSignUp)
	mustStatus(t, "sign-up", 201, status, b)

	// not verified yet: the right password gets 403
	status, b = acctCall(t, http.MethodPost, base+"/login", "", `{"userName":"dave","password":"a-good-password"}`)
	mustStatus(t, "login before verifying", 403, status, b)
	if !strings.Contains(b["message"].(string), "Verify your email") {
		t.Errorf("403 message: %v", b["message"])
	}

	m := srv.WaitFor(t, "dave@example.com", "verify your email", mailWait)
	if !strings.Contains(m.Subject, "Ticket Portal") || m.HTML == "" || m.Text == "" {
		t.Errorf("mail: subject %q, html %d, text %d bytes", m.Subject, len(m.HTML), len(m.Text))
	}
	link, _ := acctLink(t, m.Text, base+"/verifyAccount")
	status, page := acctPage(t, link)
	if status != 200 || !strings.Contains(page, "Your account is verified") {
		t.Fatalf("verification page: %d\n%s", status, page)
	}

	status, b = acctCall(t, http.MethodPost, base+"/login", "", `{"userName":"dave@example.com","password":"a-good-password","role":"user"}`)
	mustStatus(t, "login after verifying", 200, status, b)
	tok := b["token"].(string)
	if user := b["user"].(map[string]any); user["isVerified"] != true || user["role"] != "user" {
		t.Errorf("user: %v", user)
	}
	status, b = acctCall(t, http.MethodPatch, base+"/editProfile", tok, `{"userFirstName":"David"}`)
	mustStatus(t, "the token on a portal route", 200, status, b)
	status, b = acctCall(t, http.MethodPost, base+"/api/collections/users/auth-refresh", tok, "")
	mustStatus(t, "the token on PocketBase's API", 200, status, b)
}

func TestForgotResetFlow(t *testing.T) {
	_, base, srv := servedWithSMTP(t)

	status, b := acctCall(t, http.MethodPost, base+"/login", "", `{"userName":"alice","password":"`+testapp.Password+`"}`)
	mustStatus(t, "login", 200, status, b)
	oldToken := b["token"].(string)

	status, b = acctCall(t, http.MethodPost, base+"/forgetPassword", "", `{"email":"alice@example.com"}`)
	mustStatus(t, "forget password", 200, status, b)
	_, unknown := acctCall(t, http.MethodPost, base+"/forgetPassword", "", `{"email":"nobody@example.com"}`)
	if unknown["_raw"] != b["_raw"] {
		t.Errorf("answers differ for an unknown email:\n%v\n%v", unknown["_raw"], b["_raw"])
	}

	m := srv.WaitFor(t, "alice@example.com", "reset your password", mailWait)
	link, tok := acctLink(t, m.Text, base+"/resetPassword")
	status, page := acctPage(t, link)
	if status != 200 || !strings.Contains(page, `<form id="account-form" method="post" action="/resetPassword"`) {
		t.Fatalf("reset page: %d\n%s", status, page)
	}

	body := acctJSON(map[string]string{"token": tok, "password": "brand-new-password", "confirmPassword": "brand-new-password"})
	status, b = acctCall(t, http.MethodPost, base+"/resetPassword", "", body)
	mustStatus(t, "reset", 200, status, b)

	status, b = acctCall(t, http.MethodPost, base+"/api/collections/users/auth-refresh", oldToken, "")
	mustStatus(t, "the token from before the reset", 401, status, b)
	status, b = acctCall(t, http.MethodPatch, base+"/editProfile", oldToken, `{"userFirstName":"Eve"}`)
	mustStatus(t, "the token from before the reset on a portal route", 401, status, b)
	status, b = acctCall(t, http.MethodPost, base+"/resetPassword", "", body)
	mustStatus(t, "the reset link again", 400, status, b)
	status, b = acctCall(t, http.MethodPost, base+"/login", "", `{"userName":"alice","password":"`+testapp.Password+`"}`)
	mustStatus(t, "login with the old password", 401, status, b)
	status, b = acctCall(t, http.MethodPost, base+"/login", "", `{"userName":"alice","password":"brand-new-password"}`)
	mustStatus(t, "login with the new password", 200, status, b)
}

func TestEmailChangeFlow(t *testing.T) {
	_, base, srv := servedWithSMTP(t)
	password := `"password":"` + testapp.Password + `"`

	status, b := acctCall(t, http.MethodPost, base+"/login", "", `{"userName":"alice@example.com",`+password+`}`)
	mustStatus(t, "login", 200, status, b)
	tok := b["token"].(string)

	status, b = acctCall(t, http.MethodPatch, base+"/editProfile", tok, `{"email":"alice@new.example.com","userLastName":"Adams-New"}`)
	mustStatus(t, "edit profile", 200, status, b)
	if !strings.Contains(b["message"].(string), "alice@new.example.com") || b["user"].(map[string]any)["email"] != "alice@example.com" {
		t.Errorf("answer: %v", b["_raw"])
	}

	// until confirmed the old email stays in force, the new one does not log in
	status, b = acctCall(t, http.MethodPost, base+"/login", "", `{"userName":"alice@example.com",`+password+`}`)
	mustStatus(t, "login with the old email before confirming", 200, status, b)
	status, b = acctCall(t, http.MethodPost, base+"/login", "", `{"userName":"alice@new.example.com",`+password+`}`)
	mustStatus(t, "login with the new email before confirming", 401, status, b)

	m := srv.WaitFor(t, "alice@new.example.com", "confirm your new email", mailWait)
	link, linkToken := acctLink(t, m.Text, base+"/confirmEmailChange")
	status, page := acctPage(t, link)
	if status != 200 || !strings.Contains(page, "alice@new.example.com") || !strings.Contains(page, `action="/confirmEmailChange"`) {
		t.Fatalf("confirmation page: %d\n%s", status, page)
	}
	// opening the page changed nothing (mail scanners open links)
	status, b = acctCall(t, http.MethodPost, base+"/login", "", `{"userName":"alice@example.com",`+password+`}`)
	mustStatus(t, "login with the old email after opening the page", 200, status, b)

	status, b = acctCall(t, http.MethodPost, base+"/confirmEmailChange", "", `{"token":"`+linkToken+`",`+password+`}`)
	mustStatus(t, "confirm", 200, status, b)

	status, b = acctCall(t, http.MethodPost, base+"/login", "", `{"userName":"alice@new.example.com",`+password+`}`)
	mustStatus(t, "login with the new email", 200, status, b)
	if u := b["user"].(map[string]any); u["email"] != "alice@new.example.com" || u["userLastName"] != "Adams-New" {
		t.Errorf("user: %v", u)
	}
	status, b = acctCall(t, http.MethodPost, base+"/login", "", `{"userName":"alice@example.com",`+password+`}`)
	mustStatus(t, "login with the old email", 401, status, b)
	status, b = acctCall(t, http.MethodPost, base+"/api/collections/users/auth-refresh", tok, "")
	mustStatus(t, "the token from before the change", 401, status, b)
}
