package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// The product's name in mails and the dashboard, and the batch API turned on
// (its requests obey the same collection rules as single ones).
func init() {
	m.Register(func(app core.App) error {
		s := app.Settings()
		s.Meta.AppName = "Ticket Portal"
		s.Meta.SenderName = "Ticket Portal"
		s.Batch.Enabled = true
		s.Batch.MaxRequests = 50
		s.Batch.Timeout = 3
		s.Batch.MaxBodySize = 1 << 20
		return app.Save(s)
	}, nil)
}
