package hooks

import (
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
	"ticketportal/store"
)

func bindCounts(app core.App) {
	// A schema change made in the dashboard may rebuild the tickets table and
	// drop the counter triggers; put them back and recount.
	app.OnCollectionAfterUpdateSuccess(policy.Tickets).BindFunc(func(e *core.CollectionEvent) error {
		if err := store.EnsureTicketCounts(e.App); err != nil {
			e.App.Logger().Error("restoring the ticket counters failed", "error", err)
		}
		return e.Next()
	})

	// Check the counters once at start as well.
	app.OnServe().BindFunc(func(e *core.ServeEvent) error {
		if err := store.EnsureTicketCounts(e.App); err != nil {
			return err
		}
		return e.Next()
	})
}
