package testapp

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
)

// NewAdmin stores a verified agent (role admin) with the fixtures' password
// and returns it with an auth token.
func NewAdmin(t testing.TB, app core.App, userName string) (*core.Record, string) {
	t.Helper()
	col, err := app.FindCollectionByNameOrId(policy.Admins)
	if err != nil {
		t.Fatal(err)
	}
	r := core.NewRecord(col)
	r.Set("userName", userName)
	r.Set("role", policy.RoleAdmin)
	r.SetEmail(userName + "@example.com")
	r.SetPassword(Password)
	r.SetVerified(true)
	if err := app.Save(r); err != nil {
		t.Fatalf("new admin %s: %v", userName, err)
	}
	token, err := r.NewAuthToken()
	if err != nil {
		t.Fatal(err)
	}
	return r, token
}

// Call sends one JSON request (with a bearer token unless token is "") to
// a served app and returns the status and the body.
func Call(t testing.TB, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, raw
}

// MustCall is Call that fails the test on a status other than want; it
// returns the body.
func MustCall(t testing.TB, want int, method, url, token, body string) string {
	t.Helper()
	status, raw := Call(t, method, url, token, body)
	if status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, status, want, raw)
	}
	return string(raw)
}

// DecodeJSON unmarshals a JSON response body.
func DecodeJSON(t testing.TB, raw string, dst any) {
	t.Helper()
	if err := json.Unmarshal([]byte(raw), dst); err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
}

// NewTicket stores an active ticket of a customer and returns its id.
func NewTicket(t testing.TB, app core.App, customerId string) string {
	t.Helper()
	col, err := app.FindCollectionByNameOrId(policy.Tickets)
	if err != nil {
		t.Fatal(err)
	}
	r := core.NewRecord(col)
	r.Set("customerId", customerId)
	r.Set("ticketContent", "My screen stays black.")
	if err := app.Save(r); err != nil {
		t.Fatal(err)
	}
	return r.Id
}
