package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// Answers moved into messages (1764200500_conversation), whose own trigger
// refused an orphan message with a text no answer maps. This one refuses it
// the way the other integrity triggers do ("integrity:ticket"), so that a
// message racing its ticket's delete is a 400 naming the ticket on every
// path (store/integrity.go, docs/integrity.md).
func init() {
	m.Register(func(app core.App) error {
		_, err := app.DB().NewQuery(`
DROP TRIGGER IF EXISTS messages_ticket_exists;
CREATE TRIGGER IF NOT EXISTS integrity_messages_insert BEFORE INSERT ON messages BEGIN
	SELECT RAISE(ABORT, 'integrity:ticket') WHERE NOT EXISTS (SELECT 1 FROM tickets WHERE id = NEW.ticket);
END;`).Execute()
		return err
	}, func(app core.App) error {
		_, err := app.DB().NewQuery(`
DROP TRIGGER IF EXISTS integrity_messages_insert;
CREATE TRIGGER IF NOT EXISTS messages_ticket_exists BEFORE INSERT ON messages
WHEN NOT EXISTS (SELECT 1 FROM tickets WHERE id = NEW.ticket) BEGIN
	SELECT RAISE(ABORT, 'the ticket of a message must exist');
END;`).Execute()
		return err
	})
}
