package validate_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/commands"
	"ticketportal/policy"
	"ticketportal/store"
	"ticketportal/testapp"
)

type site struct {
	t    *testing.T
	app  *tests.TestApp
	base string
}

func newSite(t *testing.T) *site {
	app := testapp.New(t)
	return &site{t: t, app: app, base: testapp.Serve(t, app)}
}

// call sends JSON and returns the status and the body as text.
func (s *site) call(method, path, token, body string) (int, string) {
	s.t.Helper()
	req, _ := http.NewRequest(method, s.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

func (s *site) token(collection, id string) string {
	s.t.Helper()
	r, err := s.app.FindRecordById(collection, id)
	if err != nil {
		s.t.Fatal(err)
	}
	tok, err := r.NewAuthToken()
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

// setPassword stores a password on a fixture account the way the routes do.
func (s *site) setPassword(collection, id, password string) {
	s.t.Helper()
	r, err := s.app.FindRecordById(collection, id)
	if err != nil {
		s.t.Fatal(err)
	}
	store.SetPassword(r, password)
	if err := s.app.Save(r); err != nil {
		s.t.Fatal(err)
	}
}

// fieldCode returns data[field].code of an error body.
func fieldCode(body, field string) string {
	var e struct {
		Data map[string]struct {
			Code string `json:"code"`
		} `json:"data"`
	}
	_ = json.Unmarshal([]byte(body), &e)
	return e.Data[field].Code
}

func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

var (
	a72       = strings.Repeat("A", 72)
	a72plus   = a72 + "B"
	accents37 = strings.Repeat("é", 37) // 37 characters, 74 bytes
)

// Finding 6: with the password A×72, A×72 + anything is refused on every
// login path, and on every path that checks an old password.
func TestPasswordBeyond72BytesNeverMatches(t *testing.T) {
	s := newSite(t)
	s.setPassword(policy.Users, testapp.CustomerId, a72)
	s.setPassword(policy.Admins, testapp.AdminId, a72)
	s.setPassword(core.CollectionNameSuperusers, testapp.OperatorId, a72)
	for _, c := range []struct {
		name, path, body string
		want             int
	}{
		{"/login", "/login", `{"userName":"alice","password":` + js(a72plus) + `}`, 401},
		{"/login agent", "/login", `{"userName":"agent1","password":` + js(a72plus) + `}`, 401},
		{"users auth-with-password", "/api/collections/users/auth-with-password", `{"identity":"alice","password":` + js(a72plus) + `}`, 400},
		{"admins auth-with-password", "/api/collections/admins/auth-with-password", `{"identity":"agent1","password":` + js(a72plus) + `}`, 400},
		{"superusers auth-with-password", "/api/collections/_superusers/auth-with-password", `{"identity":"operator@example.com","password":` + js(a72plus) + `}`, 400},
	} {
		if status, body := s.call("POST", c.path, "", c.body); status != c.want {
			t.Errorf("%s with A×72+B: %d %s, want %d", c.name, status, body, c.want)
		}
	}
	alice := s.token(policy.Users, testapp.CustomerId)
	if status, body := s.call("PATCH", "/changePassword", alice, `{"oldPassword":`+js(a72plus)+`,"password":"brand-new-pass","confirmPassword":"brand-new-pass"}`); status != 400 || fieldCode(body, "oldPassword") == "" {
		t.Errorf("/changePassword with old A×72+B: %d %s", status, body)
	}
	if status, body := s.call("PATCH", "/api/collections/users/records/"+testapp.CustomerId, alice, `{"oldPassword":`+js(a72plus)+`,"password":"brand-new-pass","passwordConfirm":"brand-new-pass"}`); status != 400 || fieldCode(body, "oldPassword") == "" {
		t.Errorf("record API with old A×72+B: %d %s", status, body)
	}
	r, _ := s.app.FindRecordById(policy.Users, testapp.CustomerId)
	change, _ := r.NewEmailChangeToken("alice2@example.com")
	for _, path := range []string{"/confirmEmailChange", "/api/collections/users/confirm-email-change"} {
		if status, body := s.call("POST", path, "", `{"token":"`+change+`","password":`+js(a72plus)+`}`); status != 400 || fieldCode(body, "password") == "" {
			t.Errorf("%s with A×72+B: %d %s", path, status, body)
		}
	}
	// the exact password still works everywhere
	for _, c := range []struct{ path, body string }{
		{"/login", `{"userName":"alice","password":` + js(a72) + `}`},
		{"/api/collections/users/auth-with-password", `{"identity":"alice","password":` + js(a72) + `}`},
		{"/api/collections/admins/auth-with-password", `{"identity":"agent1","password":` + js(a72) + `}`},
		{"/api/collections/_superusers/auth-with-password", `{"identity":"operator@example.com","password":` + js(a72) + `}`},
	} {
		if status, body := s.call("POST", c.path, "", c.body); status != 200 {
			t.Errorf("%s with A×72: %d %s", c.path, status, body)
		}
	}
}

// A new password is 8 to 72 characters and at most 72 bytes on every path
// that sets one; 72 characters are accepted everywhere (one more than
// PocketBase's password field) and then log in.
func TestNewPasswordsAreLimitedTo72BytesOnEveryPath(t *testing.T) {
	s := newSite(t)
	boss := s.token(policy.Admins, testapp.SuperAdminId)
	for _, c := range []struct {
		name, method, path, token, body string
	}{
		{"/signUp", "POST", "/signUp", "", `{"email":"dan@example.com","userName":"dan","password":"P","confirmPassword":"P","userFirstName":"Dan","userLastName":"Day","mobileNumber":"+1 555 0199"}`},
		{"/changePassword", "PATCH", "/changePassword", s.token(policy.Users, testapp.CustomerId), `{"oldPassword":"` + testapp.Password + `","password":"P","confirmPassword":"P"}`},
		{"/createAdmin", "POST", "/createAdmin", boss, `{"email":"dave@example.com","userName":"dave","password":"P"}`},
		{"record API update", "PATCH", "/api/collections/users/records/" + testapp.OtherCustomerId, s.token(policy.Users, testapp.OtherCustomerId), `{"oldPassword":"` + testapp.Password + `","password":"P","passwordConfirm":"P"}`},
		{"record API admin create", "POST", "/api/collections/admins/records", boss, `{"email":"erin@example.com","userName":"erin","role":"admin","password":"P","passwordConfirm":"P"}`},
	} {
		body := strings.ReplaceAll(c.body, `"P"`, js(accents37))
		status, out := s.call(c.method, c.path, c.token, body)
		if c.name == "record API admin create" {
			// PocketBase checks the create rule on the record first, whose
			// hash bcrypt refused: still a 400, without the field's name
			if status != 400 {
				t.Errorf("%s with 74 bytes: %d %s", c.name, status, out)
			}
			continue
		}
		if status != 400 || fieldCode(out, "password") != "validation_length_too_long" {
			t.Errorf("%s with 37 two-byte letters (74 bytes): %d %s", c.name, status, out)
		}
	}
	if status, out := s.call("POST", "/api/collections/admins/records", boss, `{"email":"erin@example.com","userName":"erin","role":"admin","password":`+js(a72)+`,"passwordConfirm":`+js(a72)+`}`); status != 200 {
		t.Errorf("record API admin create with 72 characters: %d %s", status, out)
	}
	// PocketBase's own confirm-password-reset
	carol, _ := s.app.FindRecordById(policy.Users, testapp.UnverifiedId)
	reset, _ := carol.NewPasswordResetToken()
	if status, out := s.call("POST", "/api/collections/users/confirm-password-reset", "", `{"token":"`+reset+`","password":`+js(accents37)+`,"passwordConfirm":`+js(accents37)+`}`); status != 400 || !strings.Contains(out, "validation_length_too_long") {
		t.Errorf("confirm-password-reset with 74 bytes: %d %s", status, out)
	}
	if status, out := s.call("POST", "/api/collections/users/confirm-password-reset", "", `{"token":"`+reset+`","password":`+js(a72)+`,"passwordConfirm":`+js(a72)+`}`); status != 204 {
		t.Errorf("confirm-password-reset with 72 characters: %d %s", status, out)
	}
	// the record API takes 72 characters too, and they log in
	bob := s.token(policy.Users, testapp.OtherCustomerId)
	if status, out := s.call("PATCH", "/api/collections/users/records/"+testapp.OtherCustomerId, bob, `{"oldPassword":"`+testapp.Password+`","password":`+js(a72)+`,"passwordConfirm":`+js(a72)+`}`); status != 200 {
		t.Fatalf("record API with 72 characters: %d %s", status, out)
	}
	if status, out := s.call("GET", "/getUserTickets", bob, ""); status != 401 {
		t.Errorf("bob's old token after the record API changed his password: %d %s (want 401: the token key is renewed)", status, out)
	}
	for _, c := range []struct{ path, body string }{
		{"/login", `{"userName":"bob","password":` + js(a72) + `}`},
		{"/login", `{"userName":"carol@example.com","password":` + js(a72) + `}`},
	} {
		if status, out := s.call("POST", c.path, "", c.body); status != 200 {
			t.Errorf("%s %s: %d %s", c.path, c.body[:30], status, out)
		}
	}
}

// The CLI's superadmin upsert follows the same password and user name rules.
func TestSuperadminUpsertFollowsTheRules(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	if _, err := commands.UpsertSuperAdmin(app, "head@example.com", "head", accents37); err == nil || !strings.Contains(err.Error(), "password") {
		t.Errorf("74-byte password: %v", err)
	}
	if _, err := commands.UpsertSuperAdmin(app, "head@example.com", "he ad", "long-enough-1"); err == nil || !strings.Contains(err.Error(), "userName") {
		t.Errorf("bad user name: %v", err)
	}
	if _, err := commands.UpsertSuperAdmin(app, "head@example.com", "head", a72); err != nil {
		t.Fatalf("72 characters: %v", err)
	}
	r, err := app.FindAuthRecordByEmail(policy.Admins, "head@example.com")
	if err != nil || !r.ValidatePassword(a72) {
		t.Errorf("the 72-character password does not check: %v", err)
	}
}

// Finding 7: invisible or spoofing names and digitless mobile numbers are
// refused on the custom routes and the record API alike.
func TestNameAndMobileRulesOnEveryPath(t *testing.T) {
	s := newSite(t)
	alice := s.token(policy.Users, testapp.CustomerId)
	for _, c := range []struct {
		field, value, code string
	}{
		{"userFirstName", "\u200b\u200b", "validation_invalid_character"},
		{"userLastName", "\ufeff", "validation_invalid_character"},
		{"userFirstName", "Alice\u202eevil", "validation_invalid_character"},
		{"userLastName", "   ", "validation_required"},
		{"mobileNumber", "      ", "validation_too_few_digits"},
		{"mobileNumber", "------", "validation_too_few_digits"},
	} {
		body := `{"` + c.field + `":` + js(c.value) + `}`
		if status, out := s.call("PATCH", "/editProfile", alice, body); status != 400 || fieldCode(out, c.field) != c.code {
			t.Errorf("/editProfile %s=%q: %d %s, want 400 %s", c.field, c.value, status, out, c.code)
		}
		if status, out := s.call("PATCH", "/api/collections/users/records/"+testapp.CustomerId, alice, body); status != 400 || fieldCode(out, c.field) != c.code {
			t.Errorf("record API %s=%q: %d %s, want 400 %s", c.field, c.value, status, out, c.code)
		}
		signUp := map[string]string{"email": "zed@example.com", "userName": "zed", "password": "long-enough-1", "confirmPassword": "long-enough-1",
			"userFirstName": "Zed", "userLastName": "Zimmer", "mobileNumber": "+1 555 0123"}
		signUp[c.field] = c.value
		raw, _ := json.Marshal(signUp)
		if status, out := s.call("POST", "/signUp", "", string(raw)); status != 400 || fieldCode(out, c.field) != c.code {
			t.Errorf("/signUp %s=%q: %d %s, want 400 %s", c.field, c.value, status, out, c.code)
		}
	}
	// good values pass on both paths
	if status, out := s.call("PATCH", "/editProfile", alice, `{"userFirstName":"Ève","mobileNumber":"(030) 1234-56"}`); status != 200 {
		t.Errorf("/editProfile good values: %d %s", status, out)
	}
	if status, out := s.call("PATCH", "/api/collections/users/records/"+testapp.CustomerId, alice, `{"userLastName":"سارة","mobileNumber":"+44 20 7946 0000"}`); status != 200 {
		t.Errorf("record API good values: %d %s", status, out)
	}
}

// A ticket's customer names follow the same rules, on /sendTicket and the
// record API.
func TestTicketCustomerNamesFollowTheNameRules(t *testing.T) {
	s := newSite(t)
	alice := s.token(policy.Users, testapp.CustomerId)
	if status, out := s.call("POST", "/sendTicket", alice, `{"ticketContent":"Help.","customerFirstName":"\u200b"}`); status != 400 || fieldCode(out, "customerFirstName") != "validation_invalid_character" {
		t.Errorf("/sendTicket with a zero-width name: %d %s", status, out)
	}
	if status, out := s.call("POST", "/api/collections/tickets/records", alice, `{"customerId":"`+testapp.CustomerId+`","ticketContent":"Help.","customerLastName":"Adams\u202e"}`); status != 400 || fieldCode(out, "customerLastName") != "validation_invalid_character" {
		t.Errorf("record API with an RLO name: %d %s", status, out)
	}
	if status, out := s.call("POST", "/sendTicket", alice, `{"ticketContent":"Help.","customerFirstName":"Ally"}`); status != 201 {
		t.Errorf("/sendTicket with a good name: %d %s", status, out)
	}
}
