package routes_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/security"

	"ticketportal/policy"
	"ticketportal/testapp"
)

const daveSignUp = `{"email":"dave@example.com","userName":"dave","password":"a-good-password","confirmPassword":"a-good-password",` +
	`"userFirstName":"Dave","userLastName":"Davis","mobileNumber":"+1 (555) 010-0199"}`

// signUpBody is daveSignUp with some fields replaced (or removed, for nil).
func signUpBody(changes map[string]any) string {
	fields := map[string]any{"email": "dave@example.com", "userName": "dave", "password": "a-good-password",
		"confirmPassword": "a-good-password", "userFirstName": "Dave", "userLastName": "Davis", "mobileNumber": "+1 (555) 010-0199"}
	for k, v := range changes {
		if v == nil {
			delete(fields, k)
		} else {
			fields[k] = v
		}
	}
	return acctJSON(fields)
}

// daveSignedUp checks the stored, unverified customer and its mail.
func daveSignedUp(t testing.TB, app *tests.TestApp, _ []byte) {
	t.Helper()
	dave, err := app.FindFirstRecordByData(policy.Users, "userName", "dave")
	if err != nil {
		t.Fatalf("dave not stored: %v", err)
	}
	if dave.Verified() || dave.Email() != "dave@example.com" || !dave.ValidatePassword("a-good-password") ||
		dave.GetString("userFirstName") != "Dave" || dave.GetString("mobileNumber") != "+1 (555) 010-0199" {
		t.Errorf("stored dave is wrong: %v", dave.PublicExport())
	}
	m := acctMailTo(t, app, "dave@example.com", "verify your email")
	if !strings.Contains(m.Subject, "Ticket Portal") || m.Text == "" || m.HTML == "" {
		t.Errorf("mail lacks the product name or a part: %q", m.Subject)
	}
	_, tok := acctLink(t, m.Text, app.Settings().Meta.AppURL+"/verifyAccount")
	if r, err := app.FindAuthRecordByToken(tok, core.TokenTypeVerification); err != nil || r.Id != dave.Id {
		t.Errorf("the mailed link does not verify dave: %v", err)
	}
	if !strings.Contains(m.HTML, "/verifyAccount?token="+tok) {
		t.Errorf("the HTML part lacks the link")
	}
}

func TestSignUp(t *testing.T) {
	created := callerWant{status: 201, content: []string{
		`"message":"Account created.`, `"userName":"dave"`, `"email":"dave@example.com"`,
		`"role":"user"`, `"isVerified":false`, `"verified":false`, `"userFirstName":"Dave"`,
	}, check: daveSignedUp}
	// a public route: a token, valid or not, changes nothing
	asCallers(t, "signs up", http.MethodPost, "/signUp", daveSignUp, nil, testapp.Each(created, callerKinds...))
}

func TestSignUpValidation(t *testing.T) {
	bad := func(field, code string) callerWant {
		return callerWant{status: 400, content: []string{`"status":400`}, events: acctNoWrites,
			check: acctFieldCodes(map[string]string{field: code})}
	}
	taken := func(field string) callerWant {
		return callerWant{status: 409, content: []string{`"status":409`, "already taken"}, events: acctNoWrites,
			check: acctFieldCodes(map[string]string{field: "validation_not_unique"})}
	}
	ok := callerWant{status: 201, content: []string{`"userName":"dave"`}}
	for _, c := range []struct {
		name string
		body string
		want callerWant
	}{
		{"empty body names every field", `{}`, callerWant{status: 400, content: []string{`"status":400`}, events: acctNoWrites,
			check: acctFieldCodes(map[string]string{"email": "validation_required", "userName": "validation_required",
				"password": "validation_required", "confirmPassword": "validation_required", "userFirstName": "validation_required",
				"userLastName": "validation_required", "mobileNumber": "validation_required"})}},
		{"malformed email", signUpBody(map[string]any{"email": "dave.example.com"}), bad("email", "validation_is_email")},
		{"email with a space", signUpBody(map[string]any{"email": "dave @example.com"}), bad("email", "validation_is_email")},
		{"user name of 2", signUpBody(map[string]any{"userName": "da"}), bad("userName", "validation_length_out_of_range")},
		{"user name of 51", signUpBody(map[string]any{"userName": strings.Repeat("d", 51)}), bad("userName", "validation_length_out_of_range")},
		{"user name of 50", signUpBody(map[string]any{"userName": strings.Repeat("d", 49) + "v"}), callerWant{status: 201}},
		{"user name with a space", signUpBody(map[string]any{"userName": "da ve"}), bad("userName", "validation_match_invalid")},
		{"user name with an @", signUpBody(map[string]any{"userName": "dave@home"}), bad("userName", "validation_match_invalid")},
		{"user name with _ . -", signUpBody(map[string]any{"userName": "d_a.v-e"}), callerWant{status: 201, content: []string{`"userName":"d_a.v-e"`}}},
		{"password of 7", signUpBody(map[string]any{"password": "1234567", "confirmPassword": "1234567"}), bad("password", "validation_length_out_of_range")},
		{"password of 8", signUpBody(map[string]any{"password": "12345678", "confirmPassword": "12345678"}), ok},
		{"password of 72", signUpBody(map[string]any{"password": strings.Repeat("p", 72), "confirmPassword": strings.Repeat("p", 72)}), ok},
		{"password of 73", signUpBody(map[string]any{"password": strings.Repeat("p", 73), "confirmPassword": strings.Repeat("p", 73)}), bad("password", "validation_length_out_of_range")},
		{"password of 40 two-byte letters", signUpBody(map[string]any{"password": strings.Repeat("é", 40), "confirmPassword": strings.Repeat("é", 40)}), bad("password", "validation_length_too_long")},
		{"confirmPassword differs", signUpBody(map[string]any{"confirmPassword": "another-password"}), bad("confirmPassword", "validation_values_mismatch")},
		{"confirmPassword missing", signUpBody(map[string]any{"confirmPassword": nil}), bad("confirmPassword", "validation_required")},
		{"blank first name", signUpBody(map[string]any{"userFirstName": "   "}), bad("userFirstName", "validation_required")},
		{"last name of 101", signUpBody(map[string]any{"userLastName": strings.Repeat("x", 101)}), bad("userLastName", "validation_length_out_of_range")},
		{"last name of 100", signUpBody(map[string]any{"userLastName": strings.Repeat("x", 100)}), ok},
		{"mobile of 5", signUpBody(map[string]any{"mobileNumber": "12345"}), bad("mobileNumber", "validation_length_out_of_range")},
		{"mobile of 21", signUpBody(map[string]any{"mobileNumber": strings.Repeat("1", 21)}), bad("mobileNumber", "validation_length_out_of_range")},
		{"mobile with letters", signUpBody(map[string]any{"mobileNumber": "555-CALL-NOW"}), bad("mobileNumber", "validation_match_invalid")},
		{"role is an unknown field", signUpBody(map[string]any{"role": "admin"}), bad("role", "validation_unknown_field")},
		{"verified is an unknown field", signUpBody(map[string]any{"verified": true}), bad("verified", "validation_unknown_field")},
		{"isVerified is an unknown field", signUpBody(map[string]any{"isVerified": true}), bad("isVerified", "validation_unknown_field")},
		{"user name of the wrong type", signUpBody(map[string]any{"userName": 42}), bad("userName", "validation_invalid_type")},
		{"taken email", signUpBody(map[string]any{"email": "alice@example.com"}), taken("email")},
		{"taken email in other case", signUpBody(map[string]any{"email": "ALICE@Example.com"}), taken("email")},
		{"an agent's email", signUpBody(map[string]any{"email": "agent1@example.com"}), taken("email")},
		{"taken user name in other case", signUpBody(map[string]any{"userName": "Alice"}), taken("userName")},
		{"an agent's user name", signUpBody(map[string]any{"userName": "boss"}), taken("userName")},
		{"an unverified customer's email", signUpBody(map[string]any{"email": "carol@example.com"}), taken("email")},
	} {
		acctRun(t, "sign-up: "+c.name, http.MethodPost, "/signUp", c.body, nil, nil, c.want)
	}

	acctRun(t, "sign-up: taken user name and email", http.MethodPost, "/signUp",
		signUpBody(map[string]any{"userName": "bob", "email": "bob@example.com"}), nil, nil,
		callerWant{status: 409, content: []string{`"status":409`}, events: acctNoWrites,
			check: acctFieldCodes(map[string]string{"userName": "validation_not_unique", "email": "validation_not_unique"})})
	acctRun(t, "sign-up: form data is refused", http.MethodPost, "/signUp", "email=dave%40example.com",
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, nil,
		callerWant{status: 415, content: []string{`"status":415`}, events: acctNoWrites})
	acctRun(t, "sign-up: not JSON", http.MethodPost, "/signUp", `{"email":`, nil, nil,
		callerWant{status: 400, content: []string{`"status":400`}, events: acctNoWrites})
}

func TestVerifyAccount(t *testing.T) {
	// fixture token keys are the same in every fresh app of this test binary
	app := testapp.New(t)
	tok := acctToken(t, app, policy.Users, testapp.UnverifiedId, core.TokenTypeVerification)
	app.Cleanup()

	verified := callerWant{status: 200, content: []string{"<h1>Your account is verified</h1>", "carol@example.com", `href="/"`},
		check: acctChecks(acctField(policy.Users, testapp.UnverifiedId, "verified", true), acctOnePage)}
	// the link is public: whoever opens it, the token decides
	asCallers(t, "opens carol's verification link", http.MethodGet, "/verifyAccount?token="+tok, "", nil, testapp.Each(verified, callerKinds...))

	acctRun(t, "an already verified account opens its link again", http.MethodGet, "/verifyAccount?token="+tok, "", nil,
		func(t testing.TB, app *tests.TestApp) {
			carol := acctRecord(t, app, policy.Users, testapp.UnverifiedId)
			carol.SetVerified(true)
			if err := app.Save(carol); err != nil {
				t.Fatal(err)
			}
		}, verified)
}

func TestVerifyAccountRefusesBadLinks(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	carol := acctRecord(t, app, policy.Users, testapp.UnverifiedId)
	expired, err := security.NewJWT(jwt.MapClaims{
		core.TokenClaimType: core.TokenTypeVerification, core.TokenClaimId: carol.Id,
		core.TokenClaimCollectionId: carol.Collection().Id, core.TokenClaimEmail: carol.Email(),
	}, carol.TokenKey()+carol.Collection().VerificationToken.Secret, -time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	otherEmail, err := security.NewJWT(jwt.MapClaims{
		core.TokenClaimType: core.TokenTypeVerification, core.TokenClaimId: carol.Id,
		core.TokenClaimCollectionId: carol.Collection().Id, core.TokenClaimEmail: "someone@example.com",
	}, carol.TokenKey()+carol.Collection().VerificationToken.Secret, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	operator := acctRecord(t, app, core.CollectionNameSuperusers, testapp.OperatorId)
	operatorToken, _ := operator.NewVerificationToken()
	bad := map[string]string{
		"no token":                   "",
		"garbage":                    "not-a-token",
		"expired":                    expired,
		"for another email":          otherEmail,
		"an auth token":              acctToken(t, app, policy.Users, testapp.UnverifiedId, core.TokenTypeAuth),
		"a password reset token":     acctToken(t, app, policy.Users, testapp.UnverifiedId, core.TokenTypePasswordReset),
		"an operator's verification": operatorToken,
	}
	for name, tok := range bad {
		acctRun(t, "verification link: "+name, http.MethodGet, "/verifyAccount?token="+tok, "", nil, nil,
			callerWant{status: 400, content: []string{"<h1>This link does not work</h1>", `href="/"`}, events: acctNoWrites,
				check: acctChecks(acctField(policy.Users, testapp.UnverifiedId, "verified", false), acctOnePage)})
	}
}

func TestResendVerification(t *testing.T) {
	same := `"message":"If an unverified account uses this email, we sent it a new verification link."`
	asCallers(t, "asks for a new verification mail", http.MethodPost, "/resendVerification", `{"email":"carol@example.com"}`, nil,
		testapp.Each(callerWant{status: 200, content: []string{same}, check: func(t testing.TB, app *tests.TestApp, _ []byte) {
			m := acctMailTo(t, app, "carol@example.com", "verify your email")
			_, tok := acctLink(t, m.Text, "/verifyAccount")
			if r, err := app.FindAuthRecordByToken(tok, core.TokenTypeVerification); err != nil || r.Id != testapp.UnverifiedId {
				t.Errorf("the link does not verify carol: %v", err)
			}
		}}, callerKinds...))

	// no mail for a verified, unknown or agent account; the answer is the same
	for _, email := range []string{"alice@example.com", "nobody@example.com", "agent1@example.com"} {
		email := email
		acctRun(t, "resend verification to "+email, http.MethodPost, "/resendVerification", `{"email":"`+email+`"}`, nil,
			nil, callerWant{status: 200, content: []string{same}, events: acctNoWrites,
				check: func(t testing.TB, app *tests.TestApp, _ []byte) { acctNoMailTo(t, app, email) }})
	}

	acctRun(t, "resend verification twice in a minute mails once", http.MethodPost, "/resendVerification", `{"email":"CAROL@example.com"}`, nil, nil,
		callerWant{status: 200, content: []string{same}, check: func(t testing.TB, app *tests.TestApp, _ []byte) {
			acctMailTo(t, app, "carol@example.com", "verify")
			if status, _ := acctServe(t, app, http.MethodPost, "/resendVerification", `{"email":"carol@example.com"}`); status != 200 {
				t.Fatalf("second request: %d", status)
			}
			acctSentinel(t, app, "bob@example.com")
			if n := acctMailsTo(app, "carol@example.com"); n != 1 {
				t.Errorf("carol got %d verification mails", n)
			}
		}})

	for name, c := range map[string]struct{ body, field, code string }{
		"malformed email": {`{"email":"carol"}`, "email", "validation_is_email"},
		"no email":        {`{}`, "email", "validation_required"},
		"unknown field":   {`{"email":"carol@example.com","verified":true}`, "verified", "validation_unknown_field"},
	} {
		acctRun(t, "resend verification: "+name, http.MethodPost, "/resendVerification", c.body, nil, nil,
			callerWant{status: 400, content: []string{`"status":400`}, events: acctNoWrites, check: acctFieldCodes(map[string]string{c.field: c.code})})
	}
}

// The account and its verification mail are one write: when the mail
// cannot be queued, no account is left behind without its link (and the
// same for an email change, whose profile change is not kept either).
func TestAccountMailsCommitWithTheirWrite(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	url := testapp.Serve(t, app)
	if _, err := app.DB().NewQuery("ALTER TABLE mailOutbox RENAME TO mailOutboxAway").Execute(); err != nil {
		t.Fatal(err)
	}
	status, body := testapp.CallText(t, http.MethodPost, url+"/signUp", "", daveSignUp)
	if status != http.StatusInternalServerError {
		t.Fatalf("sign-up with the outbox gone: %d %s, want 500", status, body)
	}
	if _, err := app.FindFirstRecordByData(policy.Users, "userName", "dave"); err == nil {
		t.Fatal("the account was stored without its verification mail")
	}
	owner := testapp.Token(t, testapp.Owner)
	status, body = testapp.CallText(t, http.MethodPatch, url+"/editProfile", owner, `{"userFirstName":"Alicia","email":"alicia@example.com"}`)
	if status != http.StatusInternalServerError {
		t.Fatalf("email change with the outbox gone: %d %s, want 500", status, body)
	}
	if alice, _ := app.FindRecordById(policy.Users, testapp.CustomerId); alice.GetString("userFirstName") == "Alicia" {
		t.Fatal("the profile change was kept without its email change mail")
	}

	if _, err := app.DB().NewQuery("ALTER TABLE mailOutboxAway RENAME TO mailOutbox").Execute(); err != nil {
		t.Fatal(err)
	}
	// (the failed attempt spent dave's address's sign-up mail budget: the
	// next sign-up is another address)
	erin := signUpBody(map[string]any{"email": "erin@example.com", "userName": "erin"})
	if status, body = testapp.CallText(t, http.MethodPost, url+"/signUp", "", erin); status != http.StatusCreated {
		t.Fatalf("sign-up with the outbox back: %d %s", status, body)
	}
	var queued int
	if err := app.DB().NewQuery("SELECT COUNT(*) FROM mailOutbox WHERE [[to]] LIKE '%erin@example.com%'").Row(&queued); err != nil || queued != 1 {
		t.Fatalf("verification mails queued for erin: %d (%v), want 1", queued, err)
	}
}
