package routes_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/policy"
	"ticketportal/testapp"
)

var (
	acctUnauthorized = callerWant{status: 401, content: []string{`"status":401`}, events: acctNoWrites}
	acctOperatorOut  = callerWant{status: 403, content: []string{`"status":403`, "dashboard"}, events: acctNoWrites}
	acctSignedIn     = []string{testapp.Owner, testapp.OtherCustomer, testapp.Unverified, testapp.Admin, "other admin", testapp.SuperAdmin}
)

// acctGate is the head of a table for the routes of any signed-in account.
func acctGate() map[string]callerWant {
	return testapp.Merge(testapp.Each(acctUnauthorized, testapp.Anonymous, testapp.Forged), testapp.Each(acctOperatorOut, testapp.Operator))
}

// perCaller builds each signed-in caller's expectation from its account.
func perCaller(build func(kind, collection, id string) callerWant) map[string]callerWant {
	m := map[string]callerWant{}
	for _, kind := range acctSignedIn {
		id := acctIdOf[kind]
		m[kind] = build(kind, acctCollectionOf(id), id)
	}
	return m
}

func TestEditProfile(t *testing.T) {
	asCallers(t, "renames itself", http.MethodPatch, "/editProfile", `{"userName":"renamed"}`, nil, testapp.Merge(acctGate(),
		perCaller(func(kind, collection, id string) callerWant {
			role := policy.RoleUser
			if collection == policy.Admins {
				role = map[string]string{testapp.SuperAdmin: policy.RoleSuperAdmin}[kind]
				if role == "" {
					role = policy.RoleAdmin
				}
			}
			return callerWant{status: 200, content: []string{`"message":"Profile updated."`, `"userName":"renamed"`,
				`"id":"` + id + `"`, `"role":"` + role + `"`, `"email":"` + acctFixtureEmail[id] + `"`},
				check: acctChecks(acctField(collection, id, "userName", "renamed"),
					// nobody else changes
					func(t testing.TB, app *tests.TestApp, _ []byte) {
						for other := range acctFixtureEmail {
							if other != id && acctRecord(t, app, acctCollectionOf(other), other).GetString("userName") == "renamed" {
								t.Errorf("%s was renamed too", other)
							}
						}
					})}
		})))
}

func TestEditProfileFields(t *testing.T) {
	owner := testapp.Headers(t, testapp.Owner)
	admin := testapp.Headers(t, testapp.Admin)
	boss := testapp.Headers(t, testapp.SuperAdmin)
	bad := func(field, code string) callerWant {
		return callerWant{status: 400, content: []string{`"status":400`}, events: acctNoWrites, check: acctFieldCodes(map[string]string{field: code})}
	}
	taken := func(field string) callerWant {
		return callerWant{status: 409, content: []string{`"status":409`}, events: acctNoWrites,
			check: acctChecks(acctFieldCodes(map[string]string{field: "validation_not_unique"}), acctNoMail)}
	}
	for _, c := range []struct {
		name    string
		headers map[string]string
		body    string
		want    callerWant
	}{
		{"customer changes names and mobile", owner, `{"userFirstName":"Alicia","userLastName":"Adams-Smith","mobileNumber":"+44 20 7946 0000"}`,
			callerWant{status: 200, content: []string{`"userFirstName":"Alicia"`, `"mobileNumber":"+44 20 7946 0000"`},
				check: acctChecks(acctField(policy.Users, testapp.CustomerId, "userLastName", "Adams-Smith"), acctNoMail)}},
		{"admin sends a first name", admin, `{"userFirstName":"Agent"}`, bad("userFirstName", "validation_unknown_field")},
		{"superAdmin sends a mobile number", boss, `{"mobileNumber":"+1 555 0100"}`, bad("mobileNumber", "validation_unknown_field")},
		{"customer sends its role", owner, `{"role":"superAdmin"}`, bad("role", "validation_unknown_field")},
		{"admin sends its role", admin, `{"role":"superAdmin"}`, bad("role", "validation_unknown_field")},
		{"customer sends verified", owner, `{"verified":false}`, bad("verified", "validation_unknown_field")},
		{"customer sends a password", owner, `{"password":"new-password-1"}`, bad("password", "validation_unknown_field")},
		{"empty body", owner, `{}`, callerWant{status: 400, content: []string{`"status":400`, "at least one"}, events: acctNoWrites}},
		{"bad user name", owner, `{"userName":"a b"}`, bad("userName", "validation_match_invalid")},
		{"short user name", admin, `{"userName":"ab"}`, bad("userName", "validation_length_out_of_range")},
		{"bad email", owner, `{"email":"alice"}`, bad("email", "validation_is_email")},
		{"blank last name", owner, `{"userLastName":" "}`, bad("userLastName", "validation_required")},
		{"long first name", owner, `{"userFirstName":"` + strings.Repeat("a", 101) + `"}`, bad("userFirstName", "validation_length_out_of_range")},
		{"bad mobile", owner, `{"mobileNumber":"call me"}`, bad("mobileNumber", "validation_match_invalid")},
		{"user name of the wrong type", owner, `{"userName":["alice"]}`, bad("userName", "validation_invalid_type")},
		{"user name taken by a customer", owner, `{"userName":"BOB"}`, taken("userName")},
		{"user name taken by an agent", owner, `{"userName":"agent2"}`, taken("userName")},
		{"admin takes a customer's user name", admin, `{"userName":"alice"}`, taken("userName")},
		{"email taken by a customer", owner, `{"email":"bob@example.com"}`, taken("email")},
		{"email taken by an agent", owner, `{"email":"Boss@Example.com"}`, taken("email")},
		{"a valid change with a taken email saves nothing", owner, `{"userFirstName":"Alicia","email":"bob@example.com"}`,
			callerWant{status: 409, content: []string{`"status":409`}, events: acctNoWrites,
				check: acctChecks(acctField(policy.Users, testapp.CustomerId, "userFirstName", "Alice"), acctNoMail)}},
		{"own email again, other case", owner, `{"email":"ALICE@example.com"}`,
			callerWant{status: 200, content: []string{`"message":"Profile updated."`, `"email":"alice@example.com"`}, check: acctNoMail}},
		{"own user name in other case", owner, `{"userName":"Alice"}`,
			callerWant{status: 200, content: []string{`"userName":"Alice"`}}},
	} {
		acctRun(t, "edit profile: "+c.name, http.MethodPatch, "/editProfile", c.body, c.headers, nil, c.want)
	}
}

// acctNoMail checks that no mail was sent to the new or old addresses.
func acctNoMail(t testing.TB, app *tests.TestApp, _ []byte) {
	t.Helper()
	acctNoMailTo(t, app, "alice@example.com")
}

// emailChangeAsked checks that the email did not change yet, that the
// account's tokens still work, and that the new address got the link.
func emailChangeAsked(collection, id, newEmail string) func(testing.TB, *tests.TestApp, []byte) {
	return func(t testing.TB, app *tests.TestApp, body []byte) {
		t.Helper()
		r := acctRecord(t, app, collection, id)
		if r.Email() != acctFixtureEmail[id] {
			t.Errorf("the email changed before confirmation: %s", r.Email())
		}
		m := acctMailTo(t, app, newEmail, "confirm your new email")
		if !strings.Contains(m.Text, newEmail) || !strings.Contains(m.Subject, "Ticket Portal") {
			t.Errorf("mail does not name the new email: %s", m.Text)
		}
		_, tok := acctLink(t, m.Text, app.Settings().Meta.AppURL+"/confirmEmailChange")
		if got, err := app.FindAuthRecordByToken(tok, core.TokenTypeEmailChange); err != nil || got.Id != id {
			t.Errorf("the link is not an email change token of %s: %v", id, err)
		}
		if n := acctMailsTo(app, acctFixtureEmail[id]); n != 0 {
			t.Errorf("the old address got %d mails", n)
		}
	}
}

func TestEditProfileEmailWaitsForConfirmation(t *testing.T) {
	asCallers(t, "changes its email", http.MethodPatch, "/editProfile", `{"email":"new.address@example.com"}`, nil, testapp.Merge(acctGate(),
		perCaller(func(kind, collection, id string) callerWant {
			return callerWant{status: 200,
				content: []string{"new.address@example.com", "until then it stays " + acctFixtureEmail[id], `"email":"` + acctFixtureEmail[id] + `"`},
				check:   emailChangeAsked(collection, id, "new.address@example.com")}
		})))
}

func TestConfirmEmailChange(t *testing.T) {
	app := testapp.New(t)
	tok := acctToken(t, app, policy.Users, testapp.CustomerId, core.TokenTypeEmailChange, "alice.new@example.com")
	oldAuth := acctToken(t, app, policy.Users, testapp.CustomerId, core.TokenTypeAuth)
	app.Cleanup()

	// the page: a form that asks for the password; public, the token decides
	page := callerWant{status: 200, content: []string{"<h1>Confirm your new email</h1>", "alice.new@example.com",
		`<label for="password">`, `action="/confirmEmailChange"`, `value="` + tok + `"`},
		check: acctChecks(acctField(policy.Users, testapp.CustomerId, "email", "alice@example.com"), acctOnePage), html: true, headers: acctScriptAllowed}
	asCallers(t, "opens alice's email change link", http.MethodGet, "/confirmEmailChange?token="+tok, "", nil, testapp.Each(page, callerKinds...))
	acctRun(t, "a bad email change link", http.MethodGet, "/confirmEmailChange?token=nope", "", nil, nil,
		callerWant{status: 400, content: []string{"<h1>This link does not work</h1>"}, check: acctOnePage})
	acctRun(t, "an auth token as email change link", http.MethodGet, "/confirmEmailChange?token="+oldAuth, "", nil, nil,
		callerWant{status: 400, content: []string{"<h1>This link does not work</h1>"}})

	confirm := acctJSON(map[string]string{"token": tok, "password": testapp.Password})
	acctRun(t, "confirms the email change", http.MethodPost, "/confirmEmailChange", confirm, nil, nil,
		callerWant{status: 200, content: []string{`"message":"Your email is now alice.new@example.com.`},
			check: func(t testing.TB, app *tests.TestApp, _ []byte) {
				r := acctRecord(t, app, policy.Users, testapp.CustomerId)
				if r.Email() != "alice.new@example.com" || !r.Verified() {
					t.Errorf("email %s verified %v", r.Email(), r.Verified())
				}
				if acctTokenWorks(t, app, policy.Users, oldAuth) {
					t.Errorf("a token from before the change still works")
				}
				// the link works once
				status, body := acctServe(t, app, http.MethodPost, "/confirmEmailChange", confirm)
				if status != 400 || !strings.Contains(string(body), "validation_invalid_token") {
					t.Errorf("second use: %d %s", status, body)
				}
			}})
	for _, c := range []struct {
		name, body string
		before     func(testing.TB, *tests.TestApp)
		want       callerWant
	}{
		{"wrong password", acctJSON(map[string]string{"token": tok, "password": "wrong-password"}), nil,
			callerWant{status: 400, events: acctNoWrites, check: acctChecks(acctFieldCodes(map[string]string{"password": "validation_invalid_password"}),
				acctField(policy.Users, testapp.CustomerId, "email", "alice@example.com"))}},
		{"bad token", `{"token":"nope","password":"x"}`, nil,
			callerWant{status: 400, events: acctNoWrites, check: acctFieldCodes(map[string]string{"token": "validation_invalid_token"})}},
		{"an auth token", acctJSON(map[string]string{"token": oldAuth, "password": testapp.Password}), nil,
			callerWant{status: 400, events: acctNoWrites, check: acctFieldCodes(map[string]string{"token": "validation_invalid_token"})}},
		{"no password", acctJSON(map[string]string{"token": tok}), nil,
			callerWant{status: 400, events: acctNoWrites, check: acctFieldCodes(map[string]string{"password": "validation_required"})}},
		{"unknown field", acctJSON(map[string]string{"token": tok, "password": testapp.Password, "email": "x@example.com"}), nil,
			callerWant{status: 400, events: acctNoWrites, check: acctFieldCodes(map[string]string{"email": "validation_unknown_field"})}},
		{"the new email was taken meanwhile", confirm, func(t testing.TB, app *tests.TestApp) {
			bob := acctRecord(t, app, policy.Users, testapp.OtherCustomerId)
			bob.SetEmail("Alice.New@example.com")
			if err := app.Save(bob); err != nil {
				t.Fatal(err)
			}
		}, callerWant{status: 409, content: []string{`"status":409`}, check: acctChecks(acctFieldCodes(map[string]string{"email": "validation_not_unique"}),
			acctField(policy.Users, testapp.CustomerId, "email", "alice@example.com"))}},
	} {
		acctRun(t, "confirm email change: "+c.name, http.MethodPost, "/confirmEmailChange", c.body, nil, c.before, c.want)
	}
}

// passwordChanged checks the answer's fresh token, the death of the old
// one and the new password.
func passwordChanged(kind, collection, id string) func(testing.TB, *tests.TestApp, []byte) {
	return func(t testing.TB, app *tests.TestApp, body []byte) {
		t.Helper()
		var b struct{ Token string }
		if err := json.Unmarshal(body, &b); err != nil {
			t.Fatal(err)
		}
		if !acctTokenWorks(t, app, collection, b.Token) {
			t.Errorf("the answer's token does not work")
		}
		if acctTokenWorks(t, app, collection, testapp.Token(t, kind)) {
			t.Errorf("the token from before the change still works")
		}
		r := acctRecord(t, app, collection, id)
		if !r.ValidatePassword("new-password-1") || r.ValidatePassword(testapp.Password) {
			t.Errorf("the password did not change")
		}
	}
}

func TestChangePassword(t *testing.T) {
	body := `{"oldPassword":"` + testapp.Password + `","password":"new-password-1","confirmPassword":"new-password-1"}`
	asCallers(t, "changes its password", http.MethodPatch, "/changePassword", body, nil, testapp.Merge(acctGate(),
		perCaller(func(kind, collection, id string) callerWant {
			return callerWant{status: 200, content: []string{`"message":"Password changed.`, `"token":"`}, check: passwordChanged(kind, collection, id)}
		})))
}

func TestChangePasswordValidation(t *testing.T) {
	owner := testapp.Headers(t, testapp.Owner)
	unchanged := func(t testing.TB, app *tests.TestApp, _ []byte) {
		if !acctRecord(t, app, policy.Users, testapp.CustomerId).ValidatePassword(testapp.Password) {
			t.Errorf("the password changed")
		}
	}
	bad := func(field, code string) callerWant {
		return callerWant{status: 400, content: []string{`"status":400`}, absent: []string{`"token"`}, events: acctNoWrites,
			check: acctChecks(acctFieldCodes(map[string]string{field: code}), unchanged)}
	}
	with := func(old, pw, confirm string) string {
		return acctJSON(map[string]string{"oldPassword": old, "password": pw, "confirmPassword": confirm})
	}
	p72 := strings.Repeat("x", 72)
	for _, c := range []struct {
		name, body string
		want       callerWant
	}{
		{"wrong old password", with("wrong-password", "new-password-1", "new-password-1"), bad("oldPassword", "validation_invalid_password")},
		{"no old password", `{"password":"new-password-1","confirmPassword":"new-password-1"}`, bad("oldPassword", "validation_required")},
		{"short new password", with(testapp.Password, "short", "short"), bad("password", "validation_length_out_of_range")},
		{"new password of 73", with(testapp.Password, p72+"x", p72+"x"), bad("password", "validation_length_out_of_range")},
		{"confirmation differs", with(testapp.Password, "new-password-1", "new-password-2"), bad("confirmPassword", "validation_values_mismatch")},
		{"unknown field", `{"oldPassword":"x","password":"new-password-1","confirmPassword":"new-password-1","userName":"x"}`, bad("userName", "validation_unknown_field")},
		{"new password of 72", with(testapp.Password, p72, p72), callerWant{status: 200, content: []string{`"token":"`},
			check: func(t testing.TB, app *tests.TestApp, _ []byte) {
				if !acctRecord(t, app, policy.Users, testapp.CustomerId).ValidatePassword(p72) {
					t.Errorf("the 72 character password does not work")
				}
			}}},
	} {
		acctRun(t, "change password: "+c.name, http.MethodPatch, "/changePassword", c.body, owner, nil, c.want)
	}
}
