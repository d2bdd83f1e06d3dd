package hooks_test

import "ticketportal/testapp"

// The shared helpers, under short names.
var (
	call      = testapp.CallText
	mustCall  = testapp.MustCall
	decode    = testapp.DecodeJSON
	newTicket = testapp.NewTicket
)
