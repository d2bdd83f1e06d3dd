package testapp

import (
	"encoding/json"
	"fmt"
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

// CallText is Call with the body as text.
func CallText(t testing.TB, method, url, token, body string) (int, string) {
	t.Helper()
	status, raw := Call(t, method, url, token, body)
	return status, string(raw)
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

// SaveTicketAnswerAndCustomer saves, through app.Save and every hook and
// trigger, one ticket of the fixture customer, an agent's answer to it and
// a new customer numbered i: the write mix the write benchmarks measure.
func SaveTicketAnswerAndCustomer(tb testing.TB, app core.App, i int) {
	tb.Helper()
	tickets, err := app.FindCachedCollectionByNameOrId(policy.Tickets)
	if err != nil {
		tb.Fatal(err)
	}
	answers, err := app.FindCachedCollectionByNameOrId(policy.Messages)
	if err != nil {
		tb.Fatal(err)
	}
	users, err := app.FindCachedCollectionByNameOrId(policy.Users)
	if err != nil {
		tb.Fatal(err)
	}
	t := core.NewRecord(tickets)
	t.Set("customerId", CustomerId)
	t.Set("ticketContent", "Benchmark ticket about a printer that prints nothing.")
	if err := app.Save(t); err != nil {
		tb.Fatal(err)
	}
	a := core.NewRecord(answers)
	a.Set("ticket", t.Id)
	a.Set("kind", policy.KindAnswer)
	a.Set("body", "Benchmark answer: try switching it off and on.")
	a.Set("authorId", AdminId)
	if err := app.Save(a); err != nil {
		tb.Fatal(err)
	}
	u := core.NewRecord(users)
	u.Set("userName", fmt.Sprintf("bench%d", i))
	u.Set("userFirstName", "B")
	u.Set("userLastName", "B")
	u.Set("mobileNumber", "+1 555 0100")
	u.SetEmail(fmt.Sprintf("bench%d@example.com", i))
	if err := app.SaveNoValidate(u); err != nil {
		tb.Fatal(err)
	}
}
