package migrations_test

import (
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"

	_ "ticketportal/migrations"

	"ticketportal/store"
	"ticketportal/testapp"
)

func integrityMigration(t *testing.T) *core.Migration {
	t.Helper()
	for _, mig := range core.AppMigrations.Items() {
		if strings.HasSuffix(mig.File, "_integrity_triggers.go") {
			return mig
		}
	}
	t.Fatal("no integrity migration")
	return nil
}

func count(t *testing.T, app core.App, q string) int {
	t.Helper()
	var n int
	if err := app.DB().NewQuery(q).Row(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Data left by the races of earlier versions is mended as the deletes would
// have done, then the triggers refuse new violations.
func TestIntegrityMigrationMendsOldData(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	mig := integrityMigration(t)
	// answers lived in ticketAnswers when this migration ran (they moved
	// into messages later): bring back a table of that shape for the test
	if _, err := app.DB().NewQuery(`CREATE TABLE ticketAnswers (id TEXT PRIMARY KEY, ticket TEXT, answer TEXT, adminId TEXT)`).Execute(); err != nil {
		t.Fatal(err)
	}
	if err := mig.Down(app); err != nil {
		t.Fatal(err)
	}
	// what the races left: a ticket of a deleted customer with an answer,
	// an answer of a deleted ticket, a ticket held by a deleted agent, and a
	// closed ticket whose holder is history
	for _, q := range []string{
		`INSERT INTO tickets (id, customerId, ticketContent, ticketStatus, takenBy, isTaken) VALUES ('orphanticket001', 'deletedcust0001', 'x', 'active', '', FALSE)`,
		`INSERT INTO ticketAnswers (id, ticket, answer, adminId) VALUES ('orphananswer001', 'orphanticket001', 'a', 'admin0000000001')`,
		`INSERT INTO ticketAnswers (id, ticket, answer, adminId) VALUES ('orphananswer002', 'deletedtick0001', 'a', 'admin0000000001')`,
		`UPDATE tickets SET takenBy = 'deletedagent001', isTaken = TRUE WHERE id = '` + testapp.TicketId + `'`,
		`UPDATE tickets SET takenBy = 'deletedagent001' WHERE id = '` + testapp.ClosedTicketId + `'`,
	} {
		if _, err := app.DB().NewQuery(q).Execute(); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := mig.Up(app); err != nil {
		t.Fatal(err)
	}
	if n := count(t, app, `SELECT COUNT(*) FROM tickets WHERE id = 'orphanticket001'`); n != 0 {
		t.Error("the ticket of a deleted customer is still there")
	}
	if n := count(t, app, `SELECT COUNT(*) FROM ticketAnswers WHERE id IN ('orphananswer001', 'orphananswer002')`); n != 0 {
		t.Errorf("%d orphan answers are still there", n)
	}
	if n := count(t, app, `SELECT COUNT(*) FROM tickets WHERE id = '`+testapp.TicketId+`' AND takenBy = '' AND isTaken = FALSE`); n != 1 {
		t.Error("the active ticket of a deleted agent is still held")
	}
	if n := count(t, app, `SELECT COUNT(*) FROM tickets WHERE id = '`+testapp.ClosedTicketId+`' AND takenBy = 'deletedagent001'`); n != 1 {
		t.Error("the closed ticket lost its holder's history")
	}
	if n := count(t, app, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name IN ('`+strings.Join(store.IntegrityTriggers, "', '")+`')`); n != len(store.IntegrityTriggers) {
		t.Errorf("%d triggers, want %d", n, len(store.IntegrityTriggers))
	}
	_, err := app.DB().NewQuery(`INSERT INTO tickets (id, customerId, ticketContent, ticketStatus) VALUES ('orphanticket002', 'deletedcust0001', 'x', 'active')`).Execute()
	if store.IntegrityErrorOf(err) == nil || store.IntegrityErrorOf(err).Field != "customerId" {
		t.Errorf("an orphan ticket after the migration: %v", err)
	}
}

// A schema change that rebuilds a table drops its triggers; the portal puts
// them back after the collection's update.
func TestIntegrityTriggersComeBackAfterSchemaChange(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	if _, err := app.DB().NewQuery(`DROP TRIGGER integrity_tickets_insert`).Execute(); err != nil {
		t.Fatal(err)
	}
	c, err := app.FindCollectionByNameOrId("tickets")
	if err != nil {
		t.Fatal(err)
	}
	c.Fields.Add(&core.TextField{Name: "extraNote"})
	if err := app.Save(c); err != nil {
		t.Fatal(err)
	}
	if n := count(t, app, `SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND name = 'integrity_tickets_insert'`); n != 1 {
		t.Error("the trigger did not come back")
	}
}
