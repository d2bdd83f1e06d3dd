package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// The mail outbox (package mail): every portal mail is written here first
// and sent by a background worker, so that a mail server that is down or
// slow never loses a mail nor slows a request. Operators see it in the
// dashboard; every API rule is nil, so nobody else can read it (the mails
// carry account links with tokens).
func init() {
	m.Register(func(app core.App) error {
		c := core.NewBaseCollection("mailOutbox")
		c.Fields.Add(
			&core.TextField{Name: "to", Max: 2000, Presentable: true, Help: "the recipients, comma-separated"},
			&core.TextField{Name: "subject", Max: 1000},
			&core.SelectField{Name: "status", Required: true, MaxSelect: 1,
				Values: []string{"pending", "sending", "sent", "failed", "interrupted"},
				Help:   "sent: accepted by SMTP; failed: given up after a day of retries; interrupted: may or may not have arrived (stopped mid-send), not retried: set it to pending to send it again"},
			&core.NumberField{Name: "attempts", OnlyInt: true},
			&core.DateField{Name: "nextAttemptAt"},
			&core.DateField{Name: "sentAt"},
			&core.TextField{Name: "lastError", Max: 2000},
			&core.JSONField{Name: "message", MaxSize: 4 << 20, Help: "the whole message as the worker sends it"},
			&core.AutodateField{Name: "createdAt", OnCreate: true},
			&core.AutodateField{Name: "updatedAt", OnCreate: true, OnUpdate: true},
		)
		c.AddIndex("idx_mailOutbox_due", false, "status, nextAttemptAt", "")
		c.AddIndex("idx_mailOutbox_createdAt", false, "createdAt", "")
		// nil rules: operators (superusers) only.
		c.ListRule, c.ViewRule, c.CreateRule, c.UpdateRule, c.DeleteRule = nil, nil, nil, nil, nil
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("mailOutbox")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
