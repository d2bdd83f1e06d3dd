package hooks

import (
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
)

func bindTickets(app core.App) {
	// A new ticket starts active and carries a copy of its customer's data.
	app.OnRecordCreate(policy.Tickets).BindFunc(func(e *core.RecordEvent) error {
		t := e.Record
		if t.GetString("ticketStatus") == "" {
			t.Set("ticketStatus", policy.StatusActive)
		}
		if customer, err := e.App.FindRecordById(policy.Users, t.GetString("customerId")); err == nil {
			t.Set("customerUserName", customer.GetString("userName"))
			t.Set("userEmail", customer.Email())
			if t.GetString("customerFirstName") == "" {
				t.Set("customerFirstName", customer.GetString("userFirstName"))
			}
			if t.GetString("customerLastName") == "" {
				t.Set("customerLastName", customer.GetString("userLastName"))
			}
		}
		return e.Next()
	})

	// isTaken always says whether somebody holds the ticket.
	app.OnRecordValidate(policy.Tickets).BindFunc(func(e *core.RecordEvent) error {
		e.Record.Set("isTaken", e.Record.GetString("takenBy") != "")
		return e.Next()
	})
}
