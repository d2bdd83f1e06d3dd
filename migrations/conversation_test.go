package migrations_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	_ "ticketportal/migrations"
)

// migrateUpTo applies the system migrations and the portal's migrations
// whose file name sorts before stop ("" = all).
func migrateUpTo(t *testing.T, app core.App, stop string) {
	t.Helper()
	list := core.MigrationsList{}
	list.Copy(core.SystemMigrations)
	for _, m := range core.AppMigrations.Items() {
		if stop == "" || filepath.Base(m.File) < stop {
			list.Add(m)
		}
	}
	if _, err := core.NewMigrationsRunner(app, list).Up(); err != nil {
		t.Fatal(err)
	}
}

// A Part 1 database with answers keeps every answer as an answer message
// (same id, text, author and time), gains the new ticket fields filled from
// its data, and loses the ticketAnswers collection.
func TestConversationMigrationMovesTheAnswers(t *testing.T) {
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: t.TempDir()})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	defer app.ResetBootstrapState()
	migrateUpTo(t, app, "1764200500")

	exec := func(sql string, params dbx.Params) {
		t.Helper()
		if _, err := app.DB().NewQuery(sql).Bind(params).Execute(); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`INSERT INTO users (id, email, userName, userFirstName, userLastName, mobileNumber, password, tokenKey, verified, createdAt, updatedAt)
		VALUES ('cust00000000001', 'a@example.com', 'alice', 'Alice', 'Adams', '+1 555 0100', 'x', 'k1', 1, '2026-01-01 00:00:00.000Z', '2026-01-01 00:00:00.000Z')`, nil)
	exec(`INSERT INTO admins (id, email, userName, role, password, tokenKey, verified, createdAt, updatedAt)
		VALUES ('admin0000000001', 'b@example.com', 'agent1', 'admin', 'x', 'k2', 1, '2026-01-01 00:00:00.000Z', '2026-01-01 00:00:00.000Z')`, nil)
	exec(`INSERT INTO tickets (id, customerId, customerUserName, ticketContent, ticketStatus, takenBy, isTaken, createdAt, updatedAt)
		VALUES ('ticket000000001', 'cust00000000001', 'alice', 'First line of it
second line', 'active', 'admin0000000001', 1, '2026-01-02 00:00:00.000Z', '2026-01-02 00:00:00.000Z'),
		('ticket000000002', 'cust00000000001', 'alice', 'Unanswered', 'closed', '', 0, '2026-01-03 00:00:00.000Z', '2026-01-04 00:00:00.000Z')`, nil)
	exec(`INSERT INTO ticketAnswers (id, ticket, answer, adminId, createdAt, updatedAt) VALUES
		('answer000000001', 'ticket000000001', 'One.', 'admin0000000001', '2026-01-02 01:00:00.000Z', '2026-01-02 01:00:00.000Z'),
		('answer000000002', 'ticket000000001', 'Two.', 'admin0000000001', '2026-01-02 02:00:00.000Z', '2026-01-02 02:00:00.000Z')`, nil)

	migrateUpTo(t, app, "")

	if _, err := app.FindCollectionByNameOrId("ticketAnswers"); err == nil {
		t.Error("the ticketAnswers collection is still there")
	}
	for id, body := range map[string]string{"answer000000001": "One.", "answer000000002": "Two."} {
		m, err := app.FindRecordById("messages", id)
		if err != nil {
			t.Fatalf("answer %s was not moved: %v", id, err)
		}
		if m.GetString("kind") != "answer" || m.GetString("body") != body || m.GetString("authorId") != "admin0000000001" ||
			m.GetString("authorName") != "agent1" || m.GetString("ticket") != "ticket000000001" || !strings.HasPrefix(m.GetDateTime("createdAt").String(), "2026-01-02 0") {
			t.Errorf("answer %s moved as %v", id, m.FieldsData())
		}
	}
	tk, err := app.FindRecordById("tickets", "ticket000000001")
	if err != nil {
		t.Fatal(err)
	}
	if tk.GetString("ticketSubject") != "First line of it" || tk.GetString("waitingOn") != "customer" || tk.GetString("takenByName") != "agent1" ||
		tk.GetDateTime("lastMessageAt").String() != "2026-01-02 02:00:00.000Z" {
		t.Errorf("answered ticket after the migration: %v", tk.FieldsData())
	}
	closed, err := app.FindRecordById("tickets", "ticket000000002")
	if err != nil {
		t.Fatal(err)
	}
	if closed.GetString("waitingOn") != "agent" || closed.GetDateTime("closedAt").String() != "2026-01-04 00:00:00.000Z" {
		t.Errorf("closed ticket after the migration: %v", closed.FieldsData())
	}
	var events []struct{ Ticket, Event string }
	if err := app.DB().NewQuery("SELECT ticket, event FROM ticketHistory ORDER BY at, event").All(&events); err != nil {
		t.Fatal(err)
	}
	if len(events) != 4 {
		t.Errorf("history after the migration: %v, want 2 created and 2 answered", events)
	}
	s, err := app.FindRecordById("portalSettings", "portalsettings1")
	if err != nil || s.GetInt("reopenWindowDays") != 14 || s.GetString("inboundNewTickets") != "anyone" || !s.GetBool("csat") {
		t.Errorf("settings record: %v %v", s, err)
	}

	// a message of a ticket that does not exist is refused by the database
	// (with the integrity triggers' text since 1764200600_integrity_messages)
	_, err = app.DB().NewQuery(`INSERT INTO messages (id, ticket, kind, body) VALUES ('msg000000000009', 'nosuchticket000', 'note', 'x')`).Execute()
	if err == nil || !strings.Contains(err.Error(), "integrity:ticket") {
		t.Errorf("orphan message: %v", err)
	}
}
