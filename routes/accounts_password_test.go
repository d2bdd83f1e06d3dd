package routes_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/policy"
	"ticketportal/testapp"
)

const sameResetAnswer = `{"message":"If an account uses this email, we sent it a link to reset the password."}`

// resetMailed checks the reset mail to addr and that its link resets the
// password of account id.
func resetMailed(addr, id string) func(testing.TB, *tests.TestApp, []byte) {
	return func(t testing.TB, app *tests.TestApp, _ []byte) {
		t.Helper()
		m := acctMailTo(t, app, addr, "reset your password")
		if !strings.Contains(m.Subject, "Ticket Portal") || m.HTML == "" {
			t.Errorf("subject %q, html %d bytes", m.Subject, len(m.HTML))
		}
		_, tok := acctLink(t, m.Text, app.Settings().Meta.AppURL+"/resetPassword")
		if r, err := app.FindAuthRecordByToken(tok, core.TokenTypePasswordReset); err != nil || r.Id != id {
			t.Errorf("the link is not a reset token of %s: %v", id, err)
		}
		if strings.Contains(m.Text, testapp.Password) {
			t.Errorf("the mail carries a password")
		}
	}
}

func TestForgetPassword(t *testing.T) {
	mailed := callerWant{status: 200, content: []string{sameResetAnswer}, check: resetMailed("alice@example.com", testapp.CustomerId)}
	asCallers(t, "asks for alice's reset mail", http.MethodPost, "/forgetPassword", `{"email":"alice@example.com"}`, nil,
		testapp.Each(mailed, callerKinds...))

	for _, c := range []struct {
		name, email string
		check       func(testing.TB, *tests.TestApp, []byte)
	}{
		{"an agent", "agent1@example.com", resetMailed("agent1@example.com", testapp.AdminId)},
		{"a superAdmin, email in other case", "BOSS@example.com", resetMailed("boss@example.com", testapp.SuperAdminId)},
		{"an unverified customer", "carol@example.com", resetMailed("carol@example.com", testapp.UnverifiedId)},
		{"nobody", "nobody@example.com", func(t testing.TB, app *tests.TestApp, _ []byte) { acctNoMailTo(t, app, "nobody@example.com") }},
		{"the operator", "operator@example.com", func(t testing.TB, app *tests.TestApp, _ []byte) { acctNoMailTo(t, app, "operator@example.com") }},
	} {
		// the answer is the same, byte for byte, whether or not the account exists
		acctRun(t, "forget password for "+c.name, http.MethodPost, "/forgetPassword", `{"email":"`+c.email+`"}`, nil, nil,
			callerWant{status: 200, content: []string{sameResetAnswer}, events: acctNoWrites, check: c.check})
	}

	acctRun(t, "forget password twice in a minute mails once", http.MethodPost, "/forgetPassword", `{"email":"alice@example.com"}`, nil, nil,
		callerWant{status: 200, content: []string{sameResetAnswer}, check: func(t testing.TB, app *tests.TestApp, _ []byte) {
			acctMailTo(t, app, "alice@example.com", "reset")
			if status, body := acctServe(t, app, http.MethodPost, "/forgetPassword", `{"email":"alice@example.com"}`); status != 200 || string(body) != sameResetAnswer {
				t.Fatalf("second request: %d %s", status, body)
			}
			acctSentinel(t, app, "bob@example.com")
			if n := acctMailsTo(app, "alice@example.com"); n != 1 {
				t.Errorf("alice got %d reset mails", n)
			}
		}})

	for name, c := range map[string]struct{ body, field, code string }{
		"malformed email": {`{"email":"alice(at)example.com"}`, "email", "validation_is_email"},
		"no email":        {`{}`, "email", "validation_required"},
		"unknown field":   {`{"email":"alice@example.com","userName":"alice"}`, "userName", "validation_unknown_field"},
		"email not text":  {`{"email":true}`, "email", "validation_invalid_type"},
	} {
		acctRun(t, "forget password: "+name, http.MethodPost, "/forgetPassword", c.body, nil, nil,
			callerWant{status: 400, content: []string{`"status":400`}, events: acctNoWrites, check: acctFieldCodes(map[string]string{c.field: c.code})})
	}
}

func TestResetPasswordPage(t *testing.T) {
	app := testapp.New(t)
	tok := acctToken(t, app, policy.Users, testapp.CustomerId, core.TokenTypePasswordReset)
	verification := acctToken(t, app, policy.Users, testapp.CustomerId, core.TokenTypeVerification)
	app.Cleanup()

	form := callerWant{status: 200, content: []string{"<h1>Choose a new password</h1>", `action="/resetPassword"`,
		`<label for="password">`, `<label for="confirmPassword">`, `name="token" value="` + tok + `"`, `fetch(`, `role="status"`},
		check: acctOnePage, html: true, headers: acctScriptAllowed}
	asCallers(t, "opens alice's reset link", http.MethodGet, "/resetPassword?token="+tok, "", nil, testapp.Each(form, callerKinds...))
	for name, bad := range map[string]string{"no token": "", "garbage": "abc", "a verification token": verification} {
		acctRun(t, "reset page with "+name, http.MethodGet, "/resetPassword?token="+bad, "", nil, nil,
			callerWant{status: 400, content: []string{"<h1>This link does not work</h1>"}, absent: []string{"<form"}, check: acctOnePage})
	}
}

func TestResetPassword(t *testing.T) {
	app := testapp.New(t)
	aliceReset := acctToken(t, app, policy.Users, testapp.CustomerId, core.TokenTypePasswordReset)
	carolReset := acctToken(t, app, policy.Users, testapp.UnverifiedId, core.TokenTypePasswordReset)
	bossReset := acctToken(t, app, policy.Admins, testapp.SuperAdminId, core.TokenTypePasswordReset)
	aliceVerification := acctToken(t, app, policy.Users, testapp.CustomerId, core.TokenTypeVerification)
	app.Cleanup()
	with := func(tok, pw, confirm string) string {
		return acctJSON(map[string]string{"token": tok, "password": pw, "confirmPassword": confirm})
	}
	reset := func(kind, collection, id string) func(testing.TB, *tests.TestApp, []byte) {
		return func(t testing.TB, app *tests.TestApp, _ []byte) {
			t.Helper()
			r := acctRecord(t, app, collection, id)
			if !r.ValidatePassword("brand-new-password") || !r.Verified() {
				t.Errorf("password not reset, or account not verified (%v)", r.Verified())
			}
			if acctTokenWorks(t, app, collection, testapp.Token(t, kind)) {
				t.Errorf("a token from before the reset still works")
			}
		}
	}
	ok := `"message":"Your password is reset. Log in with the new one."`

	// public: the reset token decides, whoever sends it
	asCallers(t, "resets alice's password", http.MethodPost, "/resetPassword", with(aliceReset, "brand-new-password", "brand-new-password"), nil,
		testapp.Each(callerWant{status: 200, content: []string{ok}, check: acctChecks(reset(testapp.Owner, policy.Users, testapp.CustomerId),
			func(t testing.TB, app *tests.TestApp, _ []byte) {
				// the link works once
				status, body := acctServe(t, app, http.MethodPost, "/resetPassword", with(aliceReset, "another-password", "another-password"))
				if status != 400 || !strings.Contains(string(body), "validation_invalid_token") {
					t.Errorf("second use: %d %s", status, body)
				}
			})}, callerKinds...))
	acctRun(t, "reset of an unverified customer verifies it", http.MethodPost, "/resetPassword", with(carolReset, "brand-new-password", "brand-new-password"), nil, nil,
		callerWant{status: 200, content: []string{ok}, check: reset(testapp.Unverified, policy.Users, testapp.UnverifiedId)})
	acctRun(t, "reset of a superAdmin", http.MethodPost, "/resetPassword", with(bossReset, "brand-new-password", "brand-new-password"), nil, nil,
		callerWant{status: 200, content: []string{ok}, check: reset(testapp.SuperAdmin, policy.Admins, testapp.SuperAdminId)})

	unchanged := func(t testing.TB, app *tests.TestApp, _ []byte) {
		if !acctRecord(t, app, policy.Users, testapp.CustomerId).ValidatePassword(testapp.Password) {
			t.Errorf("the password changed")
		}
	}
	bad := func(field, code string) callerWant {
		return callerWant{status: 400, content: []string{`"status":400`}, events: acctNoWrites,
			check: acctChecks(acctFieldCodes(map[string]string{field: code}), unchanged)}
	}
	for _, c := range []struct {
		name, body string
		want       callerWant
	}{
		{"garbage token", with("abc", "brand-new-password", "brand-new-password"), bad("token", "validation_invalid_token")},
		{"a verification token", with(aliceVerification, "brand-new-password", "brand-new-password"), bad("token", "validation_invalid_token")},
		{"no token", `{"password":"brand-new-password","confirmPassword":"brand-new-password"}`, bad("token", "validation_required")},
		{"short password", with(aliceReset, "short", "short"), bad("password", "validation_length_out_of_range")},
		{"confirmation differs", with(aliceReset, "brand-new-password", "brand-new-passwort"), bad("confirmPassword", "validation_values_mismatch")},
		{"unknown field", `{"token":"` + aliceReset + `","password":"brand-new-password","confirmPassword":"brand-new-password","passwordConfirm":"x"}`,
			bad("passwordConfirm", "validation_unknown_field")},
	} {
		acctRun(t, "reset password: "+c.name, http.MethodPost, "/resetPassword", c.body, nil, nil, c.want)
	}
}

// TestPocketBaseMailsLinkToThePortal: PocketBase's own request endpoints
// mail links to the portal's pages, whose tokens the portal's routes take.
func TestPocketBaseMailsLinkToThePortal(t *testing.T) {
	for _, c := range []struct {
		name, url, body, path string
	}{
		{"password reset", "/api/collections/users/request-password-reset", `{"email":"alice@example.com"}`, "/resetPassword"},
		{"verification", "/api/collections/users/request-verification", `{"email":"carol@example.com"}`, "/verifyAccount"},
		{"agent password reset", "/api/collections/admins/request-password-reset", `{"email":"agent1@example.com"}`, "/resetPassword"},
	} {
		(&tests.ApiScenario{
			Name:           "PocketBase's " + c.name + " mail",
			Method:         http.MethodPost,
			URL:            c.url,
			Body:           strings.NewReader(c.body),
			ExpectedStatus: 204,
			TestAppFactory: testapp.Factory,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				var html string
				for range 500 {
					if app.TestMailer.TotalSend() > 0 {
						html = app.TestMailer.LastMessage().HTML
						break
					}
					time.Sleep(20 * time.Millisecond)
				}
				want := app.Settings().Meta.AppURL + c.path + "?token="
				if !strings.Contains(html, want) || strings.Contains(html, "/_/#/auth") {
					t.Errorf("the mail does not link to %s:\n%s", want, html)
				}
			},
		}).Test(t)
	}
}
