package hooks

import (
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
	"ticketportal/store"
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

	// A ticket's JSON carries its answers, oldest first (record API, realtime).
	app.OnRecordEnrich(policy.Tickets).BindFunc(func(e *core.RecordEnrichEvent) error {
		if err := store.AttachAnswers(e.App, e.Record); err != nil {
			return err
		}
		return e.Next()
	})

	// A new answer updates its ticket, so that subscribers of the ticket hear
	// about it. The ticket is re-read and saved inside one transaction so that
	// a concurrent take or close is never overwritten.
	app.OnRecordAfterCreateSuccess(policy.Answers).BindFunc(func(e *core.RecordEvent) error {
		ticketId := e.Record.GetString("ticket")
		err := e.App.RunInTransaction(func(tx core.App) error {
			t, err := tx.FindRecordById(policy.Tickets, ticketId)
			if err != nil {
				return err
			}
			return tx.Save(t)
		})
		if err != nil {
			e.App.Logger().Error("touching the answered ticket failed", "ticket", ticketId, "error", err)
		}
		return e.Next()
	})
}
