package hooks_test

import (
	"encoding/json"
	"testing"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/hooks"
	"ticketportal/policy"
	"ticketportal/testapp"
)

// call sends a JSON request with a token and returns the status and body.
func call(t testing.TB, method, url, token, body string) (int, string) {
	t.Helper()
	status, raw := testapp.Call(t, method, url, token, body)
	return status, string(raw)
}

// mustCall is call that fails the test on a status other than want.
func mustCall(t testing.TB, want int, method, url, token, body string) string {
	t.Helper()
	status, raw := call(t, method, url, token, body)
	if status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, status, want, raw)
	}
	return raw
}

// expectMarked reads the next event of s and checks that it is exactly the
// admin room's marked message want.
func expectMarked(t testing.TB, s *testapp.SSE, want hooks.Marked) {
	t.Helper()
	ev := s.Expect(t, hooks.AdminsRoom)
	var got map[string]any
	ev.Decode(t, &got)
	wantMap := map[string]any{"event": "marked", "ticketId": want.TicketId, "ticketStatus": want.TicketStatus, "by": want.By}
	if len(got) != len(wantMap) {
		t.Fatalf("marked message %s, want exactly %v", ev.Data, wantMap)
	}
	for k, v := range wantMap {
		if got[k] != v {
			t.Fatalf("marked message %s, want %v", ev.Data, wantMap)
		}
	}
}

// recordEvent is the data of a record event.
type recordEvent struct {
	Action string         `json:"action"`
	Record map[string]any `json:"record"`
}

// expectRecord reads the next event of s and checks its topic, action and
// record id; it returns the event's record.
func expectRecord(t testing.TB, s *testapp.SSE, topic, action, id string) map[string]any {
	t.Helper()
	var got recordEvent
	s.Expect(t, topic).Decode(t, &got)
	if got.Action != action || got.Record["id"] != id {
		t.Fatalf("%s event: %s of %v, want %s of %s", topic, got.Action, got.Record["id"], action, id)
	}
	return got.Record
}

// newTicket stores an active ticket of a customer and returns its id.
func newTicket(t testing.TB, app core.App, customerId string) string {
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

// newAdmin stores an agent with the fixtures' password and returns its
// record and a token.
func newAdmin(t testing.TB, app core.App, userName string) (*core.Record, string) {
	t.Helper()
	return testapp.NewAdmin(t, app, userName)
}

// decode unmarshals a JSON response body.
func decode(t testing.TB, raw string, dst any) {
	t.Helper()
	if err := json.Unmarshal([]byte(raw), dst); err != nil {
		t.Fatalf("%q: %v", raw, err)
	}
}
