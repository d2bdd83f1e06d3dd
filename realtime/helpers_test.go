package realtime_test

import (
	"testing"

	"ticketportal/testapp"
)

// The shared helpers, under short names.
var (
	call      = testapp.CallText
	mustCall  = testapp.MustCall
	decode    = testapp.DecodeJSON
	newTicket = testapp.NewTicket
	newAdmin  = testapp.NewAdmin
)

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
