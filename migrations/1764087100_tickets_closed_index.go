package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"

	"ticketportal/policy"
)

// The closed tickets' list (newest first) reads an index in order instead
// of sorting every closed ticket on each request; the queue's index cannot
// serve it, because isHighPriority sits between status and time there.
func init() {
	m.Register(func(app core.App) error {
		tickets, err := app.FindCollectionByNameOrId(policy.Tickets)
		if err != nil {
			return err
		}
		tickets.AddIndex("idx_tickets_status_created", false, "ticketStatus, createdAt", "")
		return app.Save(tickets)
	}, func(app core.App) error {
		tickets, err := app.FindCollectionByNameOrId(policy.Tickets)
		if err != nil {
			return err
		}
		tickets.RemoveIndex("idx_tickets_status_created")
		return app.Save(tickets)
	})
}
