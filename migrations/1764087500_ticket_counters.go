package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"

	"ticketportal/store"
)

// Exact ticket totals without a COUNT per list request: a counter table kept
// by triggers (see store/counts.go).
func init() {
	m.Register(func(app core.App) error {
		return store.EnsureTicketCounts(app)
	}, func(app core.App) error {
		_, err := app.DB().NewQuery(`DROP TRIGGER IF EXISTS ticketCounts_insert; DROP TRIGGER IF EXISTS ticketCounts_delete;
			DROP TRIGGER IF EXISTS ticketCounts_update; DROP TABLE IF EXISTS ticketCounts;`).Execute()
		return err
	})
}
