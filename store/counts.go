package store

import (
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Ticket counts are kept exact by SQLite triggers on the tickets table, in
// the same transaction as every insert, delete and status change, whatever
// path made it (custom routes, record API, dashboard, cascades). A list's
// total is then one primary-key read instead of a COUNT over the index.
//
// Keys: "status:active", "status:closed", "customer:<id>".

// CountKeyStatus and CountKeyCustomer build the counter keys.
func CountKeyStatus(status string) string { return "status:" + status }
func CountKeyCustomer(id string) string   { return "customer:" + id }

// counterDDL creates the counter table and its triggers; it is idempotent.
const counterDDL = `
CREATE TABLE IF NOT EXISTS ticketCounts (key TEXT PRIMARY KEY NOT NULL, n INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS ticketCounts_insert AFTER INSERT ON tickets BEGIN
	INSERT INTO ticketCounts (key, n) VALUES ('status:' || NEW.ticketStatus, 1), ('customer:' || NEW.customerId, 1)
		ON CONFLICT(key) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER IF NOT EXISTS ticketCounts_delete AFTER DELETE ON tickets BEGIN
	UPDATE ticketCounts SET n = n - 1 WHERE key IN ('status:' || OLD.ticketStatus, 'customer:' || OLD.customerId);
END;

CREATE TRIGGER IF NOT EXISTS ticketCounts_update AFTER UPDATE OF ticketStatus, customerId ON tickets
WHEN OLD.ticketStatus IS NOT NEW.ticketStatus OR OLD.customerId IS NOT NEW.customerId BEGIN
	UPDATE ticketCounts SET n = n - 1 WHERE key IN ('status:' || OLD.ticketStatus, 'customer:' || OLD.customerId);
	INSERT INTO ticketCounts (key, n) VALUES ('status:' || NEW.ticketStatus, 1), ('customer:' || NEW.customerId, 1)
		ON CONFLICT(key) DO UPDATE SET n = n + 1;
END;
`

// recountSQL rebuilds every counter from the tickets table.
const recountSQL = `
DELETE FROM ticketCounts;
INSERT INTO ticketCounts (key, n) SELECT 'status:' || ticketStatus, COUNT(*) FROM tickets GROUP BY ticketStatus;
INSERT INTO ticketCounts (key, n) SELECT 'customer:' || customerId, COUNT(*) FROM tickets GROUP BY customerId;
`

// EnsureTicketCounts creates the counters and their triggers when any is
// missing (a fresh install, or a dashboard schema change that rebuilt the
// tickets table and dropped its triggers) and then recounts, in one
// transaction. With everything in place it only reads sqlite_master.
func EnsureTicketCounts(app core.App) error {
	var present int
	err := app.DB().NewQuery(`SELECT COUNT(*) FROM sqlite_master WHERE
		(type = 'table' AND name = 'ticketCounts') OR
		(type = 'trigger' AND name IN ('ticketCounts_insert', 'ticketCounts_delete', 'ticketCounts_update'))`).Row(&present)
	if err != nil {
		return err
	}
	if present == 4 {
		return nil
	}
	return app.RunInTransaction(func(tx core.App) error {
		if _, err := tx.DB().NewQuery(counterDDL).Execute(); err != nil {
			return err
		}
		_, err := tx.DB().NewQuery(recountSQL).Execute()
		return err
	})
}

// CountTickets returns the exact number of tickets under a counter key.
func CountTickets(app core.App, key string) (int, error) {
	var n int
	err := app.DB().NewQuery("SELECT COALESCE((SELECT n FROM ticketCounts WHERE key = {:key}), 0)").
		Bind(dbx.Params{"key": key}).Row(&n)
	return n, err
}
