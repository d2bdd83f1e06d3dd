package mail

import (
	"strings"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
	"ticketportal/settings"
)

// bindAutoReply queues the "we have your ticket" mail (setting autoReply)
// in the transaction that creates a ticket, whatever surface creates it
// (the routes, the record API, the dashboard, an inbound mail).
func bindAutoReply(app core.App) {
	app.OnRecordCreate(policy.Tickets).BindFunc(func(e *core.RecordEvent) error {
		orig := e.App
		defer func() { e.App = orig }()
		return orig.RunInTransaction(func(tx core.App) error {
			e.App = tx
			if err := e.Next(); err != nil {
				return err
			}
			if !settings.Get(tx).AutoReply {
				return nil
			}
			t := e.Record
			_, err := QueueTicketMail(tx, t, TicketMail{
				Template: "ticket_autoreply",
				Values: map[string]any{
					"name":     t.GetString("customerFirstName"),
					"ticketId": t.Id,
					"ticket":   shorten(t.GetString("ticketContent"), 200),
				},
				AutoSubmitted: "auto-replied",
			})
			return err
		})
	})
}

// shorten cuts s to at most n characters.
func shorten(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	return strings.TrimSpace(string(r[:n])) + "…"
}
