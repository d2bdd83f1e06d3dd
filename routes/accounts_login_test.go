package routes_test

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/policy"
	"ticketportal/testapp"
)

// loggedIn checks a login answer: a live PocketBase auth token of the
// expected account and the account itself, with its role.
func loggedIn(collection, id, role string) func(testing.TB, *tests.TestApp, []byte) {
	return func(t testing.TB, app *tests.TestApp, body []byte) {
		t.Helper()
		var b struct {
			Message string         `json:"message"`
			Token   string         `json:"token"`
			User    map[string]any `json:"user"`
		}
		if err := json.Unmarshal(body, &b); err != nil {
			t.Fatalf("not a login answer: %v\n%s", err, body)
		}
		r, err := app.FindAuthRecordByToken(b.Token, "auth")
		if err != nil || r.Id != id || r.Collection().Name != collection {
			t.Fatalf("the token is not a live auth token of %s %s: %v", collection, id, err)
		}
		if b.User["id"] != id || b.User["role"] != role || b.User["email"] != acctFixtureEmail[id] {
			t.Errorf("user = %v, want %s with role %s", b.User, id, role)
		}
	}
}

const badLogin = `"message":"Wrong user name, email or password."`

func TestLogin(t *testing.T) {
	alice := callerWant{status: 200, content: []string{`"message":"Logged in."`, `"token":"`, `"userName":"alice"`, `"isVerified":true`},
		check: loggedIn(policy.Users, testapp.CustomerId, policy.RoleUser)}
	// a public route: the caller's own token changes nothing
	asCallers(t, "logs in as alice", http.MethodPost, "/login", `{"userName":"alice","password":"`+testapp.Password+`"}`, nil,
		testapp.Each(alice, callerKinds...))
}

func TestLoginIdentitiesAndRoles(t *testing.T) {
	as := func(collection, id, role string) callerWant {
		return callerWant{status: 200, content: []string{`"token":"`, `"role":"` + role + `"`}, check: loggedIn(collection, id, role)}
	}
	refused := callerWant{status: 401, content: []string{`"status":401`, badLogin}, absent: []string{`"token"`}}
	for _, c := range []struct {
		name, userName, role string
		want                 callerWant
	}{
		{"customer by user name", "alice", "", as(policy.Users, testapp.CustomerId, policy.RoleUser)},
		{"customer by user name in other case", "ALICE", "", as(policy.Users, testapp.CustomerId, policy.RoleUser)},
		{"customer by email", "alice@example.com", "", as(policy.Users, testapp.CustomerId, policy.RoleUser)},
		{"customer by email in other case", "Alice@Example.COM", "", as(policy.Users, testapp.CustomerId, policy.RoleUser)},
		{"customer as role user", "alice", policy.RoleUser, as(policy.Users, testapp.CustomerId, policy.RoleUser)},
		{"customer as role admin", "alice", policy.RoleAdmin, refused},
		{"admin by user name", "agent1", "", as(policy.Admins, testapp.AdminId, policy.RoleAdmin)},
		{"admin by email as role admin", "agent1@example.com", policy.RoleAdmin, as(policy.Admins, testapp.AdminId, policy.RoleAdmin)},
		{"admin as role superAdmin", "agent1", policy.RoleSuperAdmin, refused},
		{"admin as role user", "agent1", policy.RoleUser, refused},
		{"superAdmin by user name", "boss", "", as(policy.Admins, testapp.SuperAdminId, policy.RoleSuperAdmin)},
		{"superAdmin as role superAdmin", "boss", policy.RoleSuperAdmin, as(policy.Admins, testapp.SuperAdminId, policy.RoleSuperAdmin)},
		{"superAdmin as role admin", "boss", policy.RoleAdmin, as(policy.Admins, testapp.SuperAdminId, policy.RoleSuperAdmin)},
		{"operator's credentials", "operator@example.com", "", refused},
		{"unknown user name", "nobody", "", refused},
		{"unknown email", "nobody@example.com", "", refused},
	} {
		body := map[string]any{"userName": c.userName, "password": testapp.Password}
		if c.role != "" {
			body["role"] = c.role
		}
		acctRun(t, "login: "+c.name, http.MethodPost, "/login", acctJSON(body), nil, nil, c.want)
	}
	acctRun(t, "login: an empty role is no role", http.MethodPost, "/login",
		`{"userName":"boss","password":"`+testapp.Password+`","role":""}`, nil, nil, as(policy.Admins, testapp.SuperAdminId, policy.RoleSuperAdmin))
}

func TestLoginRefusals(t *testing.T) {
	bad := func(field, code string) callerWant {
		return callerWant{status: 400, content: []string{`"status":400`}, absent: []string{`"token"`}, check: acctFieldCodes(map[string]string{field: code})}
	}
	for _, c := range []struct {
		name, body string
		want       callerWant
	}{
		{"wrong password", `{"userName":"alice","password":"wrong-password"}`,
			callerWant{status: 401, content: []string{badLogin}, absent: []string{`"token"`}}},
		{"wrong password of an unverified customer", `{"userName":"carol","password":"wrong-password"}`,
			callerWant{status: 401, content: []string{badLogin}, absent: []string{`"token"`, "verify"}}},
		{"unverified customer with the right password", `{"userName":"carol","password":"` + testapp.Password + `"}`,
			callerWant{status: 403, content: []string{`"status":403`, `"message":"Verify your email before you log in`}, absent: []string{`"token"`}}},
		{"no user name", `{"password":"x"}`, bad("userName", "validation_required")},
		{"no password", `{"userName":"alice"}`, bad("password", "validation_required")},
		{"unknown role", `{"userName":"alice","password":"x","role":"operator"}`, bad("role", "validation_invalid_value")},
		{"unknown field", `{"userName":"alice","password":"x","identity":"alice"}`, bad("identity", "validation_unknown_field")},
		{"password of the wrong type", `{"userName":"alice","password":12345678}`, bad("password", "validation_invalid_type")},
		{"not an object", `["alice"]`, callerWant{status: 400, content: []string{`"status":400`}}},
	} {
		acctRun(t, "login: "+c.name, http.MethodPost, "/login", c.body, nil, nil, c.want)
	}
}

// TestLoginTokenWorksOnPocketBaseAPI uses the login token on PocketBase's
// own record API and on the portal's routes, over real HTTP.
func TestLoginTokenWorksOnPocketBaseAPI(t *testing.T) {
	app := testapp.New(t)
	base := testapp.Serve(t, app)
	status, b := acctCall(t, http.MethodPost, base+"/login", "", `{"userName":"agent1@example.com","password":"`+testapp.Password+`","role":"admin"}`)
	if status != 200 {
		t.Fatalf("login: %d %v", status, b["_raw"])
	}
	tok, _ := b["token"].(string)
	if status, b := acctCall(t, http.MethodPost, base+"/api/collections/admins/auth-refresh", tok, ""); status != 200 {
		t.Errorf("auth-refresh with the login token: %d %v", status, b["_raw"])
	}
	if status, b := acctCall(t, http.MethodGet, base+"/api/collections/admins/records/"+testapp.AdminId, tok, ""); status != 200 {
		t.Errorf("record API with the login token: %d %v", status, b["_raw"])
	}
	if status, _ := acctCall(t, http.MethodGet, base+"/api/collections/admins/records/"+testapp.AdminId, "", ""); status != 404 {
		t.Errorf("the record API is open without a token: %d", status)
	}
}

// TestLoginTokenWorksOnRealtime: an agent's login token joins the admin
// room on PocketBase's realtime API, which refuses guests.
func TestLoginTokenWorksOnRealtime(t *testing.T) {
	app := testapp.New(t)
	base := testapp.Serve(t, app)
	status, b := acctCall(t, http.MethodPost, base+"/login", "", `{"userName":"agent1","password":"`+testapp.Password+`"}`)
	if status != 200 {
		t.Fatalf("login: %d %v", status, b["_raw"])
	}
	if status := testapp.ConnectSSE(t, base).Subscribe("", "adminsRoom"); status == http.StatusNoContent {
		t.Fatalf("a guest joined the admin room")
	}
	testapp.ConnectSSE(t, base).MustSubscribe(b["token"].(string), "adminsRoom")
}

// TestLoginSpendsTheSameTimeForUnknownAccounts: an unknown account costs a
// bcrypt comparison too, so timing does not tell which accounts exist.
func TestLoginSpendsTheSameTimeForUnknownAccounts(t *testing.T) {
	app := testapp.New(t)
	base := testapp.Serve(t, app)
	timeOf := func(body string) time.Duration {
		var runs []time.Duration
		for range 5 {
			start := time.Now()
			if status, b := acctCall(t, http.MethodPost, base+"/login", "", body); status != 401 {
				t.Fatalf("%d %v", status, b["_raw"])
			}
			runs = append(runs, time.Since(start))
		}
		sort.Slice(runs, func(i, j int) bool { return runs[i] < runs[j] })
		return runs[len(runs)/2]
	}
	acctCall(t, http.MethodPost, base+"/login", "", `{"userName":"nobody","password":"warm-up-password"}`)
	wrong := timeOf(`{"userName":"alice","password":"wrong-password"}`)
	unknown := timeOf(`{"userName":"nobody","password":"wrong-password"}`)
	if unknown < wrong/3 {
		t.Errorf("an unknown account answers in %s, a wrong password in %s", unknown, wrong)
	}
	// and the answers are the same, byte for byte
	_, a := acctCall(t, http.MethodPost, base+"/login", "", `{"userName":"alice","password":"wrong-password"}`)
	_, b := acctCall(t, http.MethodPost, base+"/login", "", `{"userName":"nobody@example.com","password":"wrong-password"}`)
	if a["_raw"] != b["_raw"] || !strings.Contains(a["_raw"].(string), "Wrong user name") {
		t.Errorf("answers differ:\n%v\n%v", a["_raw"], b["_raw"])
	}
}
