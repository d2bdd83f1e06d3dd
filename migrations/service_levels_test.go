package migrations_test

import (
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Existing tickets get their deadlines from the stored sla setting, their
// first answer and close times; tickets closed or answered late get their
// breach recorded (not announced); active ones get their next check; the
// report tables start from the data as it is.
func TestServiceLevelMigrationFillsExistingTickets(t *testing.T) {
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: t.TempDir()})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	defer app.ResetBootstrapState()
	migrateUpTo(t, app, "1764200800")

	exec := func(sql string) {
		t.Helper()
		if _, err := app.DB().NewQuery(sql).Execute(); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`UPDATE portalSettings SET sla = '{"high":{"firstResponseMinutes":30,"resolveMinutes":120},"normal":{"firstResponseMinutes":60,"resolveMinutes":1440}}'`)
	exec(`INSERT INTO users (id, email, userName, password, tokenKey, verified) VALUES ('cust00000000001', 'a@example.com', 'alice', 'x', 'k1', 1)`)
	exec(`INSERT INTO tickets (id, customerId, ticketContent, ticketStatus, isHighPriority, createdAt, updatedAt, closedAt, tags) VALUES
		('tkonTime0000001', 'cust00000000001', 'a', 'closed', 0, '2026-01-01 10:00:00.000Z', '2026-01-01 11:00:00.000Z', '2026-01-01 11:00:00.000Z', '[]'),
		('tkLate000000002', 'cust00000000001', 'b', 'closed', 1, '2026-01-01 10:00:00.000Z', '2026-01-01 13:00:00.000Z', '2026-01-01 13:00:00.000Z', '[]'),
		('tkActive0000003', 'cust00000000001', 'c', 'active', 0, '2026-01-02 10:00:00.000Z', '2026-01-02 10:00:00.000Z', '', '[]'),
		('tkAnswrd0000004', 'cust00000000001', 'd', 'active', 0, '2026-01-02 10:00:00.000Z', '2026-01-02 10:00:00.000Z', '', '[]')`)
	exec(`INSERT INTO messages (id, ticket, kind, body, authorId, createdAt, updatedAt) VALUES
		('msg000000000001', 'tkonTime0000001', 'answer', 'x', 'admin0000000001', '2026-01-01 10:20:00.000Z', '2026-01-01 10:20:00.000Z'),
		('msg000000000002', 'tkAnswrd0000004', 'answer', 'x', 'admin0000000002', '2026-01-02 11:30:00.000Z', '2026-01-02 11:30:00.000Z'),
		('msg000000000003', 'tkAnswrd0000004', 'answer', 'x', 'admin0000000001', '2026-01-02 12:30:00.000Z', '2026-01-02 12:30:00.000Z')`)

	migrateUpTo(t, app, "")

	type row struct {
		Id                 string `db:"id"`
		FirstResponseDueAt string `db:"firstResponseDueAt"`
		ResolveDueAt       string `db:"resolveDueAt"`
		FirstRespondedAt   string `db:"firstRespondedAt"`
		FirstRespondedBy   string `db:"firstRespondedBy"`
		ResolvedAt         string `db:"resolvedAt"`
		SlaBreached        string `db:"slaBreached"`
		NextDueAt          string `db:"nextDueAt"`
		DueAt              string `db:"dueAt"`
	}
	want := map[string]row{
		"tkonTime0000001": {"tkonTime0000001", "2026-01-01 11:00:00.000Z", "2026-01-02 10:00:00.000Z", "2026-01-01 10:20:00.000Z", "admin0000000001", "2026-01-01 11:00:00.000Z", "", "", ""},
		"tkLate000000002": {"tkLate000000002", "2026-01-01 10:30:00.000Z", "2026-01-01 12:00:00.000Z", "", "", "2026-01-01 13:00:00.000Z", "resolve", "", ""},
		"tkActive0000003": {"tkActive0000003", "2026-01-02 11:00:00.000Z", "2026-01-03 10:00:00.000Z", "", "", "", "", "2026-01-02 11:00:00.000Z", "2026-01-02 11:00:00.000Z"},
		"tkAnswrd0000004": {"tkAnswrd0000004", "2026-01-02 11:00:00.000Z", "2026-01-03 10:00:00.000Z", "2026-01-02 11:30:00.000Z", "admin0000000002", "", "firstResponse", "2026-01-03 10:00:00.000Z", "2026-01-03 10:00:00.000Z"},
	}
	var rows []row
	if err := app.DB().NewQuery("SELECT id, firstResponseDueAt, resolveDueAt, firstRespondedAt, firstRespondedBy, resolvedAt, slaBreached, nextDueAt, dueAt FROM tickets").All(&rows); err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r != want[r.Id] {
			t.Errorf("%s after the migration:\n got %+v\nwant %+v", r.Id, r, want[r.Id])
		}
	}
	// Breaches that happened before the migration are on record (so never
	// announced): the late ticket's two, the active ticket answered late.
	var lines []string
	if err := app.DB().NewQuery("SELECT ticket || ' ' || json_extract(detail, '$.which') FROM ticketHistory WHERE event = 'slaBreached' ORDER BY 1").Column(&lines); err != nil {
		t.Fatal(err)
	}
	if len(lines) != 3 || lines[0] != "tkAnswrd0000004 firstResponse" || lines[1] != "tkLate000000002 firstResponse" || lines[2] != "tkLate000000002 resolve" {
		t.Errorf("breach lines: %v", lines)
	}
	var days []struct {
		Day      string `db:"day"`
		Created  int    `db:"created"`
		Closed   int    `db:"closed"`
		Breached int    `db:"breached"`
	}
	if err := app.DB().NewQuery("SELECT day, created, closed, breached FROM reportDays ORDER BY day").All(&days); err != nil {
		t.Fatal(err)
	}
	if len(days) != 2 || days[0].Created != 2 || days[0].Closed != 2 || days[0].Breached != 1 || days[1].Created != 2 || days[1].Closed != 0 || days[1].Breached != 1 {
		t.Errorf("report days: %+v", days)
	}
	var answers int
	if err := app.DB().NewQuery("SELECT SUM(answers) FROM reportAgentDays").Row(&answers); err != nil || answers != 3 {
		t.Errorf("answers in the agent days: %d %v", answers, err)
	}
	var key string
	if err := app.DB().Select("value").From("portalSecrets").Where(dbx.HashExp{"name": "rating"}).Row(&key); err != nil || len(key) != 64 {
		t.Errorf("rating key: %q %v", key, err)
	}
}
