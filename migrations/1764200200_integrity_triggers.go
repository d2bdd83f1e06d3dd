package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"

	"ticketportal/policy"
)

// The integrity invariants, kept by the database (store/integrity.go,
// docs/integrity.md): a ticket's customer exists, a ticket's holder is an
// existing agent or operator, an answer's ticket exists, and a user name or
// an email names one account across customers and agents.
//
// Data written by the races of earlier versions is mended first, as the
// deletes would have done had they won: tickets of deleted customers go with
// their answers, answers of deleted tickets go, active tickets held by a
// deleted account go back to the queue. A user name or email shared by a
// customer and an agent is left as it is and logged (renaming an account
// behind its owner's back is worse); the triggers check a value only when it
// is written, so both accounts keep working until one of them changes it.
func init() {
	m.Register(func(app core.App) error {
		if err := mendIntegrity(app); err != nil {
			return err
		}
		if err := integrityIndexes(app, true); err != nil {
			return err
		}
		_, err := app.DB().NewQuery(integrityTriggers1764200200).Execute()
		return err
	}, func(app core.App) error {
		// indexes first: saving a collection puts missing triggers back
		if err := integrityIndexes(app, false); err != nil {
			return err
		}
		for _, name := range integrityTriggerNames1764200200 {
			if _, err := app.DB().NewQuery("DROP TRIGGER IF EXISTS " + name).Execute(); err != nil {
				return err
			}
		}
		return nil
	})
}

var mendSteps = []struct{ what, sql string }{
	{"answers of tickets whose customer is deleted", `DELETE FROM ticketAnswers WHERE ticket IN (SELECT id FROM tickets WHERE customerId NOT IN (SELECT id FROM users))`},
	{"tickets whose customer is deleted", `DELETE FROM tickets WHERE customerId NOT IN (SELECT id FROM users)`},
	{"answers whose ticket is deleted", `DELETE FROM ticketAnswers WHERE ticket NOT IN (SELECT id FROM tickets)`},
	{"active tickets held by a deleted account", `UPDATE tickets SET takenBy = '', isTaken = FALSE WHERE ticketStatus = 'active' AND takenBy != ''
		AND takenBy NOT IN (SELECT id FROM admins) AND takenBy NOT IN (SELECT id FROM _superusers)`},
}

func mendIntegrity(app core.App) error {
	for _, step := range mendSteps {
		res, err := app.DB().NewQuery(step.sql).Execute()
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			app.Logger().Warn("integrity: mended "+step.what, "rows", n)
		}
	}
	var shared []struct {
		Customer string `db:"customer"`
		Agent    string `db:"agent"`
	}
	err := app.DB().NewQuery(`SELECT u.id AS customer, a.id AS agent FROM users u JOIN admins a
		ON u.userName = a.userName COLLATE NOCASE OR (u.email != '' AND u.email = a.email COLLATE NOCASE)`).All(&shared)
	if err != nil {
		return err
	}
	for _, s := range shared {
		app.Logger().Warn("integrity: a customer and an agent share a user name or an email; rename one of them",
			"customer", s.Customer, "agent", s.Agent)
	}
	return nil
}

// integrityIndexes adds (or removes) the indexes the triggers look up by:
// the email of each account collection without case, and the holder of a
// ticket.
func integrityIndexes(app core.App, add bool) error {
	indexes := []struct{ collection, name, columns, where string }{
		{policy.Users, "idx_users_email_nocase", "email COLLATE NOCASE", ""},
		{policy.Admins, "idx_admins_email_nocase", "email COLLATE NOCASE", ""},
		{policy.Tickets, "idx_tickets_takenBy", "takenBy", "takenBy != ''"},
	}
	for _, ix := range indexes {
		c, err := app.FindCollectionByNameOrId(ix.collection)
		if err != nil {
			return err
		}
		if add {
			c.AddIndex(ix.name, false, ix.columns, ix.where)
		} else {
			c.RemoveIndex(ix.name)
		}
		if err := app.Save(c); err != nil {
			return err
		}
	}
	return nil
}

// integrityTriggers1764200200 are the triggers as this migration made them
// (answers were still in ticketAnswers then; the live set is in
// store/integrity.go and later migrations change it).
const integrityTriggers1764200200 = `
CREATE TRIGGER IF NOT EXISTS integrity_users_insert BEFORE INSERT ON users BEGIN
	SELECT RAISE(ABORT, 'integrity:userName') WHERE EXISTS (SELECT 1 FROM admins WHERE userName = NEW.userName COLLATE NOCASE);
	SELECT RAISE(ABORT, 'integrity:email') WHERE NEW.email != '' AND EXISTS (SELECT 1 FROM admins WHERE email = NEW.email COLLATE NOCASE);
END;

CREATE TRIGGER IF NOT EXISTS integrity_users_update BEFORE UPDATE OF userName, email ON users BEGIN
	SELECT RAISE(ABORT, 'integrity:userName') WHERE NEW.userName IS NOT OLD.userName
		AND EXISTS (SELECT 1 FROM admins WHERE userName = NEW.userName COLLATE NOCASE);
	SELECT RAISE(ABORT, 'integrity:email') WHERE NEW.email IS NOT OLD.email AND NEW.email != ''
		AND EXISTS (SELECT 1 FROM admins WHERE email = NEW.email COLLATE NOCASE);
END;

CREATE TRIGGER IF NOT EXISTS integrity_admins_insert BEFORE INSERT ON admins BEGIN
	SELECT RAISE(ABORT, 'integrity:userName') WHERE EXISTS (SELECT 1 FROM users WHERE userName = NEW.userName COLLATE NOCASE);
	SELECT RAISE(ABORT, 'integrity:email') WHERE NEW.email != '' AND EXISTS (SELECT 1 FROM users WHERE email = NEW.email COLLATE NOCASE);
END;

CREATE TRIGGER IF NOT EXISTS integrity_admins_update BEFORE UPDATE OF userName, email ON admins BEGIN
	SELECT RAISE(ABORT, 'integrity:userName') WHERE NEW.userName IS NOT OLD.userName
		AND EXISTS (SELECT 1 FROM users WHERE userName = NEW.userName COLLATE NOCASE);
	SELECT RAISE(ABORT, 'integrity:email') WHERE NEW.email IS NOT OLD.email AND NEW.email != ''
		AND EXISTS (SELECT 1 FROM users WHERE email = NEW.email COLLATE NOCASE);
END;

CREATE TRIGGER IF NOT EXISTS integrity_tickets_insert BEFORE INSERT ON tickets BEGIN
	SELECT RAISE(ABORT, 'integrity:customerId') WHERE NOT EXISTS (SELECT 1 FROM users WHERE id = NEW.customerId);
	SELECT RAISE(ABORT, 'integrity:takenBy') WHERE COALESCE(NEW.takenBy, '') != ''
		AND NOT EXISTS (SELECT 1 FROM admins WHERE id = NEW.takenBy) AND NOT EXISTS (SELECT 1 FROM _superusers WHERE id = NEW.takenBy);
END;

CREATE TRIGGER IF NOT EXISTS integrity_tickets_update BEFORE UPDATE OF customerId, takenBy ON tickets BEGIN
	SELECT RAISE(ABORT, 'integrity:customerId') WHERE NEW.customerId IS NOT OLD.customerId
		AND NOT EXISTS (SELECT 1 FROM users WHERE id = NEW.customerId);
	SELECT RAISE(ABORT, 'integrity:takenBy') WHERE COALESCE(NEW.takenBy, '') != '' AND NEW.takenBy IS NOT OLD.takenBy
		AND NOT EXISTS (SELECT 1 FROM admins WHERE id = NEW.takenBy) AND NOT EXISTS (SELECT 1 FROM _superusers WHERE id = NEW.takenBy);
END;

CREATE TRIGGER IF NOT EXISTS integrity_admins_delete AFTER DELETE ON admins BEGIN
	UPDATE tickets SET takenBy = '', isTaken = FALSE WHERE takenBy = OLD.id AND ticketStatus = 'active';
END;

CREATE TRIGGER IF NOT EXISTS integrity_superusers_delete AFTER DELETE ON _superusers BEGIN
	UPDATE tickets SET takenBy = '', isTaken = FALSE WHERE takenBy = OLD.id AND ticketStatus = 'active';
END;

CREATE TRIGGER IF NOT EXISTS integrity_answers_insert BEFORE INSERT ON ticketAnswers BEGIN
	SELECT RAISE(ABORT, 'integrity:ticket') WHERE NOT EXISTS (SELECT 1 FROM tickets WHERE id = NEW.ticket);
END;

CREATE TRIGGER IF NOT EXISTS integrity_answers_update BEFORE UPDATE OF ticket ON ticketAnswers BEGIN
	SELECT RAISE(ABORT, 'integrity:ticket') WHERE NEW.ticket IS NOT OLD.ticket
		AND NOT EXISTS (SELECT 1 FROM tickets WHERE id = NEW.ticket);
END;
`

var integrityTriggerNames1764200200 = []string{"integrity_users_insert", "integrity_users_update", "integrity_admins_insert", "integrity_admins_update", "integrity_tickets_insert", "integrity_tickets_update", "integrity_admins_delete", "integrity_superusers_delete", "integrity_answers_insert", "integrity_answers_update"}
