package hooks_test

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"

	"ticketportal/migrations"
	"ticketportal/testapp"
)

// throttled sends one request to a served test app and returns its status and body.
func throttled(t testing.TB, method, url, token, body string) (int, string) {
	t.Helper()
	status, raw := testapp.Call(t, method, url, token, body)
	return status, string(raw)
}

// isPocketBase429 checks the body is PocketBase's error shape for 429.
func isPocketBase429(t testing.TB, body string) {
	t.Helper()
	var e struct {
		Status  int            `json:"status"`
		Message string         `json:"message"`
		Data    map[string]any `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Status != 429 || e.Message == "" || e.Data == nil {
		t.Fatalf("429 body is not PocketBase's error shape: %s", body)
	}
}

func TestBurstOfFailedLoginsIsThrottled(t *testing.T) {
	app := testapp.New(t)
	base := testapp.Serve(t, app)
	bad := `{"userName":"alice","password":"wrong-password-1"}`
	for i := range 20 {
		if status, body := throttled(t, http.MethodPost, base+"/login", "", bad); status != http.StatusUnauthorized {
			t.Fatalf("failed login %d: %d %s, want 401", i+1, status, body)
		}
	}
	status, body := throttled(t, http.MethodPost, base+"/login", "", bad)
	if status != http.StatusTooManyRequests {
		t.Fatalf("login 21 within a minute: %d %s, want 429", status, body)
	}
	isPocketBase429(t, body)
	// the right password does not get past the limit either
	good := `{"userName":"alice","password":"` + testapp.Password + `"}`
	if status, _ := throttled(t, http.MethodPost, base+"/login", "", good); status != http.StatusTooManyRequests {
		t.Fatalf("a correct login during the lockout: %d, want 429", status)
	}
	// other routes are not affected
	if status, body := throttled(t, http.MethodGet, base+"/getUserTickets", testapp.Token(t, testapp.Owner), ""); status != http.StatusOK {
		t.Fatalf("another route during the login lockout: %d %s", status, body)
	}
}

func TestBurstOnPocketBaseAuthEndpointsIsThrottled(t *testing.T) {
	for _, collection := range []string{"users", "admins", "_superusers"} {
		t.Run(collection, func(t *testing.T) {
			app := testapp.New(t)
			base := testapp.Serve(t, app)
			url := base + "/api/collections/" + collection + "/auth-with-password"
			bad := `{"identity":"nobody@example.com","password":"wrong-password-1"}`
			for i := range 20 {
				if status, body := throttled(t, http.MethodPost, url, "", bad); status != http.StatusBadRequest {
					t.Fatalf("failed auth %d: %d %s, want 400", i+1, status, body)
				}
			}
			status, body := throttled(t, http.MethodPost, url, "", bad)
			if status != http.StatusTooManyRequests {
				t.Fatalf("auth 21: %d %s, want 429", status, body)
			}
			isPocketBase429(t, body)
		})
	}
}

// Every throttled custom route refuses the request after its budget, even
// requests its handler would refuse anyway (the limit is checked first).
func TestThrottledCustomRoutesAnswer429AfterTheirBudget(t *testing.T) {
	budget := map[string]int{}
	for _, r := range migrations.RateLimitRules {
		budget[r.Label] = r.MaxRequests
	}
	for _, tc := range []struct {
		label, method, path, kind, body string
	}{
		{"POST /signUp", http.MethodPost, "/signUp", testapp.Anonymous, `{"email":"not-an-email"}`},
		{"POST /forgetPassword", http.MethodPost, "/forgetPassword", testapp.Anonymous, `{"email":"nobody@example.com"}`},
		{"POST /resendVerification", http.MethodPost, "/resendVerification", testapp.Anonymous, `{"email":"nobody@example.com"}`},
		{"POST /resetPassword", http.MethodPost, "/resetPassword", testapp.Anonymous, `{"token":"x","password":"abcdefgh1","confirmPassword":"abcdefgh1"}`},
		{"POST /sendTicket", http.MethodPost, "/sendTicket", testapp.Owner, `{"ticketContent":""}`},
		{"PATCH /changePassword", http.MethodPatch, "/changePassword", testapp.Owner, `{"oldPassword":"wrong-password-1","password":"abcdefgh1","confirmPassword":"abcdefgh1"}`},
	} {
		t.Run(tc.label, func(t *testing.T) {
			n, ok := budget[tc.label]
			if !ok {
				t.Fatalf("no rate limit rule %q", tc.label)
			}
			app := testapp.New(t)
			base := testapp.Serve(t, app)
			token := testapp.Token(t, tc.kind)
			for i := range n {
				status, body := throttled(t, tc.method, base+tc.path, token, tc.body)
				if status == http.StatusTooManyRequests || status >= 500 {
					t.Fatalf("request %d of %d: %d %s", i+1, n, status, body)
				}
			}
			status, body := throttled(t, tc.method, base+tc.path, token, tc.body)
			if status != http.StatusTooManyRequests {
				t.Fatalf("request %d: %d %s, want 429", n+1, status, body)
			}
			isPocketBase429(t, body)
		})
	}
}

// An office whose agents share one IP can be excluded by the operator, and
// operators themselves are never throttled.
func TestExcludedIPsAndOperatorsAreNotThrottled(t *testing.T) {
	app := testapp.New(t)
	base := testapp.Serve(t, app)
	op := testapp.Token(t, testapp.Operator)
	for i := range 25 {
		if status, body := throttled(t, http.MethodPost, base+"/sendTicket", op, `{"ticketContent":""}`); status == http.StatusTooManyRequests {
			t.Fatalf("operator request %d throttled: %s", i+1, body)
		}
	}

	s := app.Settings()
	s.RateLimits.ExcludedIPs = []string{"127.0.0.1"}
	if err := app.Save(s); err != nil {
		t.Fatal(err)
	}
	// the excluded IP skips the per-IP limits; each account keeps its own
	// budget of wrong passwords (package throttle), so spread them
	for i := range 30 {
		bad := `{"userName":"` + []string{"alice", "bob", "carol", "nobody"}[i%4] + `","password":"wrong-password-1"}`
		if status, body := throttled(t, http.MethodPost, base+"/login", "", bad); status != http.StatusUnauthorized {
			t.Fatalf("login %d from an excluded IP: %d %s", i+1, status, body)
		}
	}
}

func TestThrottlingIsOnByDefaultWithTheDocumentedRules(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	s := app.Settings()
	if !s.RateLimits.Enabled {
		t.Fatal("rate limits are off")
	}
	have := map[string]bool{}
	for _, r := range s.RateLimits.Rules {
		have[r.Label] = true
	}
	readme, err := os.ReadFile("../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range migrations.RateLimitRules {
		if !have[r.Label] {
			t.Errorf("rule %q is missing from the settings", r.Label)
		}
		if !strings.Contains(string(readme), "`"+r.Label+"`") {
			t.Errorf("rule %q is not documented in docs/operations.md", r.Label)
		}
	}
}
