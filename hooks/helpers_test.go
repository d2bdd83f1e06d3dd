package hooks_test

import (
	"testing"

	"ticketportal/testapp"
)

// The shared helpers, under short names.
var (
	mustCall  = testapp.MustCall
	decode    = testapp.DecodeJSON
	newTicket = testapp.NewTicket
)

// call sends a JSON request with a token and returns the status and body.
func call(t testing.TB, method, url, token, body string) (int, string) {
	t.Helper()
	status, raw := testapp.Call(t, method, url, token, body)
	return status, string(raw)
}
