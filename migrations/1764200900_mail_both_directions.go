package migrations

import (
	"crypto/rand"
	"encoding/hex"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// Mail in both directions: the outbox remembers which
// ticket a mail belongs to and its Message-ID (so that a reply's
// In-Reply-To/References finds the ticket and a bounce finds the mail), the
// durable inbox of raw inbound messages (operators only: every API rule is
// nil), the server's key that signs the per-ticket reply addresses, and a
// customer made from a mail has no mobile number.
func init() {
	m.Register(func(app core.App) error {
		outbox, err := app.FindCollectionByNameOrId("mailOutbox")
		if err != nil {
			return err
		}
		outbox.Fields.Add(
			&core.TextField{Name: "ticket", Max: 15, Help: "the ticket this mail belongs to, if any"},
			&core.TextField{Name: "messageId", Max: 300, Help: "the mail's Message-ID, without <>"},
		)
		outbox.AddIndex("idx_mailOutbox_messageId", true, "messageId", "messageId != ''")
		outbox.AddIndex("idx_mailOutbox_ticket", false, "ticket, createdAt", "ticket != ''")
		if err := app.Save(outbox); err != nil {
			return err
		}

		c := core.NewBaseCollection("inboundMail")
		c.Fields.Add(
			&core.TextField{Name: "messageId", Required: true, Max: 1000, Presentable: true, Help: "the mail's Message-ID (or sha256: of the raw bytes when it has none); one row per Message-ID"},
			&core.SelectField{Name: "source", MaxSelect: 1, Values: []string{"smtp", "imap"}},
			&core.TextField{Name: "envelopeFrom", Max: 1000, Help: "SMTP MAIL FROM (empty for a bounce), or the Return-Path header for IMAP"},
			&core.TextField{Name: "recipients", Max: 10000, Help: "SMTP RCPT TO addresses, or the To/Cc/Delivered-To headers for IMAP"},
			&core.TextField{Name: "sender", Max: 1000, Help: "the From address, lowercased"},
			&core.TextField{Name: "subject", Max: 1000},
			&core.TextField{Name: "raw", Max: 30 << 20, Help: "the raw message as received"},
			&core.SelectField{Name: "state", Required: true, MaxSelect: 1, Values: []string{"stored", "processed", "refused", "ignored"},
				Help: "stored: waiting for the worker (set it back to stored to process it again); processed: on a ticket; refused: not routable or not allowed (see detail); ignored: automatic mail"},
			&core.TextField{Name: "outcome", Max: 50, Help: "reply, followUp, note, newTicket, bounce, automatic, refused"},
			&core.TextField{Name: "detail", Max: 2000},
			&core.TextField{Name: "ticket", Max: 15},
			&core.DateField{Name: "processedAt"},
			&core.AutodateField{Name: "createdAt", OnCreate: true},
			&core.AutodateField{Name: "updatedAt", OnCreate: true, OnUpdate: true},
		)
		c.AddIndex("idx_inboundMail_messageId", true, "messageId", "")
		c.AddIndex("idx_inboundMail_state", false, "state, createdAt", "")
		c.AddIndex("idx_inboundMail_sender", false, "sender, outcome, processedAt", "")
		c.AddIndex("idx_inboundMail_ticket", false, "ticket", "ticket != ''")
		c.ListRule, c.ViewRule, c.CreateRule, c.UpdateRule, c.DeleteRule = nil, nil, nil, nil, nil
		if err := app.Save(c); err != nil {
			return err
		}

		users, err := app.FindCollectionByNameOrId("users")
		if err != nil {
			return err
		}
		if f, ok := users.Fields.GetByName("mobileNumber").(*core.TextField); ok {
			f.Required = false
			f.Min = 0
		}
		if err := app.Save(users); err != nil {
			return err
		}

		// The key of the signed reply addresses: made once, kept in a table
		// that is no collection (no API, not in the dashboard).
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return err
		}
		if _, err := app.DB().NewQuery(`CREATE TABLE IF NOT EXISTS _portalMailKey (id INTEGER PRIMARY KEY CHECK (id = 1), key TEXT NOT NULL)`).Execute(); err != nil {
			return err
		}
		_, err = app.DB().NewQuery(`INSERT OR IGNORE INTO _portalMailKey (id, key) VALUES (1, {:key})`).Bind(map[string]any{"key": hex.EncodeToString(key)}).Execute()
		return err
	}, func(app core.App) error {
		if c, err := app.FindCollectionByNameOrId("inboundMail"); err == nil {
			if err := app.Delete(c); err != nil {
				return err
			}
		}
		outbox, err := app.FindCollectionByNameOrId("mailOutbox")
		if err != nil {
			return err
		}
		outbox.RemoveIndex("idx_mailOutbox_messageId")
		outbox.RemoveIndex("idx_mailOutbox_ticket")
		outbox.Fields.RemoveByName("ticket")
		outbox.Fields.RemoveByName("messageId")
		if err := app.Save(outbox); err != nil {
			return err
		}
		_, err = app.DB().NewQuery(`DROP TABLE IF EXISTS _portalMailKey`).Execute()
		return err
	})
}
