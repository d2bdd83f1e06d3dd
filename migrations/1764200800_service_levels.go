package migrations

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// Service levels, ratings and reports:
//
//   - the ticket's deadlines and their bookkeeping: firstResponseDueAt,
//     resolveDueAt, firstRespondedAt (+ firstRespondedBy, for the report),
//     resolvedAt, slaBreached; nextDueAt is when the breach scheduler must
//     look at the ticket next (indexed: the scheduler reads only the
//     earliest), dueAt the soonest deadline with work undone (indexed over
//     the active queue, for ?sort=due). All are staff-only and written by
//     the server only (hooks/sla.go).
//   - reportDays and reportAgentDays: per-day counts kept by SQL triggers
//     on every write whatever its path, so that a report reads one row per
//     day instead of scanning tickets.
//   - portalSecrets: the server's random key for rating links (HMAC). A
//     plain table, not a collection: no API and no dashboard shows it.
//
// Existing tickets get their deadlines from the stored sla setting; those
// closed or answered late get their breach recorded (history line with
// backfilled: true) so that nothing old is announced; active overdue
// tickets are announced by the scheduler on the next start, as for any
// deadline that passed while the server was down.

const slaDateFmt = `'%Y-%m-%d %H:%M:%fZ'`

// slaDoneFirst is when a ticket's first-response work ended: its first
// answer, or its close when that came first (or without an answer).
const slaDoneFirst = `(CASE WHEN firstRespondedAt = '' THEN resolvedAt WHEN resolvedAt = '' OR firstRespondedAt < resolvedAt THEN firstRespondedAt ELSE resolvedAt END)`

const slaTables = `
CREATE TABLE IF NOT EXISTS reportDays (
	day TEXT PRIMARY KEY NOT NULL,
	created INTEGER NOT NULL DEFAULT 0,
	closed INTEGER NOT NULL DEFAULT 0,
	breached INTEGER NOT NULL DEFAULT 0,
	good INTEGER NOT NULL DEFAULT 0,
	bad INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS reportAgentDays (
	day TEXT NOT NULL,
	adminId TEXT NOT NULL,
	answers INTEGER NOT NULL DEFAULT 0,
	closed INTEGER NOT NULL DEFAULT 0,
	PRIMARY KEY (day, adminId)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS portalSecrets (
	name TEXT PRIMARY KEY NOT NULL,
	value TEXT NOT NULL
);
`

// slaFillReports builds the report tables from the data as it is.
const slaFillReports = `
DELETE FROM reportDays;
DELETE FROM reportAgentDays;
INSERT INTO reportDays (day, created, breached, good, bad)
SELECT substr(createdAt, 1, 10), COUNT(*), SUM(slaBreached != ''), SUM(rating = 'good'), SUM(rating = 'bad')
FROM tickets GROUP BY 1;
INSERT INTO reportDays (day, closed)
SELECT substr(closedAt, 1, 10), COUNT(*) FROM tickets WHERE closedAt != '' GROUP BY 1
ON CONFLICT(day) DO UPDATE SET closed = closed + excluded.closed;
INSERT INTO reportAgentDays (day, adminId, answers)
SELECT substr(createdAt, 1, 10), authorId, COUNT(*) FROM messages WHERE kind = 'answer' AND authorId != '' GROUP BY 1, 2;
INSERT INTO reportAgentDays (day, adminId, closed)
SELECT substr(at, 1, 10), by, COUNT(*) FROM ticketHistory WHERE event = 'closed' AND by != '' GROUP BY 1, 2
ON CONFLICT(day, adminId) DO UPDATE SET closed = closed + excluded.closed;
`

// slaTriggers keep the report tables. A ticket's contribution to reportDays
// is taken out and put back whenever a column it depends on changes.
const slaTriggers = `
CREATE TRIGGER IF NOT EXISTS report_tickets_insert AFTER INSERT ON tickets BEGIN
	INSERT INTO reportDays (day, created, breached, good, bad)
	VALUES (substr(NEW.createdAt, 1, 10), 1, NEW.slaBreached != '', NEW.rating = 'good', NEW.rating = 'bad')
	ON CONFLICT(day) DO UPDATE SET created = created + 1, breached = breached + excluded.breached, good = good + excluded.good, bad = bad + excluded.bad;
	INSERT INTO reportDays (day, closed) SELECT substr(NEW.closedAt, 1, 10), 1 WHERE NEW.closedAt != ''
	ON CONFLICT(day) DO UPDATE SET closed = closed + 1;
END;
CREATE TRIGGER IF NOT EXISTS report_tickets_delete AFTER DELETE ON tickets BEGIN
	UPDATE reportDays SET created = created - 1, breached = breached - (OLD.slaBreached != ''),
		good = good - (OLD.rating = 'good'), bad = bad - (OLD.rating = 'bad')
	WHERE day = substr(OLD.createdAt, 1, 10);
	UPDATE reportDays SET closed = closed - 1 WHERE OLD.closedAt != '' AND day = substr(OLD.closedAt, 1, 10);
END;
CREATE TRIGGER IF NOT EXISTS report_tickets_update AFTER UPDATE OF createdAt, closedAt, slaBreached, rating ON tickets
WHEN OLD.createdAt IS NOT NEW.createdAt OR OLD.closedAt IS NOT NEW.closedAt OR OLD.slaBreached IS NOT NEW.slaBreached OR OLD.rating IS NOT NEW.rating BEGIN
	UPDATE reportDays SET created = created - 1, breached = breached - (OLD.slaBreached != ''),
		good = good - (OLD.rating = 'good'), bad = bad - (OLD.rating = 'bad')
	WHERE day = substr(OLD.createdAt, 1, 10);
	UPDATE reportDays SET closed = closed - 1 WHERE OLD.closedAt != '' AND day = substr(OLD.closedAt, 1, 10);
	INSERT INTO reportDays (day, created, breached, good, bad)
	VALUES (substr(NEW.createdAt, 1, 10), 1, NEW.slaBreached != '', NEW.rating = 'good', NEW.rating = 'bad')
	ON CONFLICT(day) DO UPDATE SET created = created + 1, breached = breached + excluded.breached, good = good + excluded.good, bad = bad + excluded.bad;
	INSERT INTO reportDays (day, closed) SELECT substr(NEW.closedAt, 1, 10), 1 WHERE NEW.closedAt != ''
	ON CONFLICT(day) DO UPDATE SET closed = closed + 1;
END;
CREATE TRIGGER IF NOT EXISTS report_messages_insert AFTER INSERT ON messages WHEN NEW.kind = 'answer' AND NEW.authorId != '' BEGIN
	INSERT INTO reportAgentDays (day, adminId, answers) VALUES (substr(NEW.createdAt, 1, 10), NEW.authorId, 1)
	ON CONFLICT(day, adminId) DO UPDATE SET answers = answers + 1;
END;
CREATE TRIGGER IF NOT EXISTS report_messages_delete AFTER DELETE ON messages WHEN OLD.kind = 'answer' AND OLD.authorId != '' BEGIN
	UPDATE reportAgentDays SET answers = answers - 1 WHERE day = substr(OLD.createdAt, 1, 10) AND adminId = OLD.authorId;
END;
CREATE TRIGGER IF NOT EXISTS report_history_insert AFTER INSERT ON ticketHistory WHEN NEW.event = 'closed' AND NEW.by != '' BEGIN
	INSERT INTO reportAgentDays (day, adminId, closed) VALUES (substr(NEW.at, 1, 10), NEW.by, 1)
	ON CONFLICT(day, adminId) DO UPDATE SET closed = closed + 1;
END;
CREATE TRIGGER IF NOT EXISTS report_history_delete AFTER DELETE ON ticketHistory WHEN OLD.event = 'closed' AND OLD.by != '' BEGIN
	UPDATE reportAgentDays SET closed = closed - 1 WHERE day = substr(OLD.at, 1, 10) AND adminId = OLD.by;
END;
`

const slaDropTriggers = `
DROP TRIGGER IF EXISTS report_tickets_insert;
DROP TRIGGER IF EXISTS report_tickets_delete;
DROP TRIGGER IF EXISTS report_tickets_update;
DROP TRIGGER IF EXISTS report_messages_insert;
DROP TRIGGER IF EXISTS report_messages_delete;
DROP TRIGGER IF EXISTS report_history_insert;
DROP TRIGGER IF EXISTS report_history_delete;
DROP TABLE IF EXISTS reportDays;
DROP TABLE IF EXISTS reportAgentDays;
DROP TABLE IF EXISTS portalSecrets;
`

var slaFields = []string{"firstResponseDueAt", "resolveDueAt", "firstRespondedAt", "firstRespondedBy", "resolvedAt", "slaBreached", "nextDueAt", "dueAt"}

func init() {
	m.Register(func(app core.App) error {
		tickets, err := app.FindCollectionByNameOrId("tickets")
		if err != nil {
			return err
		}
		tickets.Fields.Add(
			&core.DateField{Name: "firstResponseDueAt", Help: "staff only: when the first answer is due"},
			&core.DateField{Name: "resolveDueAt", Help: "staff only: when the close is due"},
			&core.DateField{Name: "firstRespondedAt", Help: "staff only: the first answer"},
			&core.TextField{Name: "firstRespondedBy", Max: 15, Help: "staff only: who gave the first answer"},
			&core.DateField{Name: "resolvedAt", Help: "staff only: the close"},
			&core.SelectField{Name: "slaBreached", MaxSelect: 1, Values: []string{"firstResponse", "resolve"}, Help: "staff only: the deadline missed last"},
			&core.DateField{Name: "nextDueAt", Help: "server bookkeeping: when the breach scheduler looks at the ticket next"},
			&core.DateField{Name: "dueAt", Help: "server bookkeeping: the soonest deadline with work undone"},
		)
		tickets.AddIndex("idx_tickets_nextDueAt", false, "nextDueAt", "nextDueAt != ''")
		tickets.AddIndex("idx_tickets_active_due", false, "dueAt", "ticketStatus = 'active'")
		tickets.AddIndex("idx_tickets_report", false, "createdAt, firstRespondedAt, resolvedAt, firstRespondedBy", "")
		if err := app.Save(tickets); err != nil {
			return err
		}

		hi, normal := slaTargets(app)
		backfill := fmt.Sprintf(`
UPDATE tickets SET
	firstResponseDueAt = strftime(%[1]s, julianday(createdAt) + (CASE WHEN isHighPriority THEN %[2]g ELSE %[4]g END) / 1440.0),
	resolveDueAt = strftime(%[1]s, julianday(createdAt) + (CASE WHEN isHighPriority THEN %[3]g ELSE %[5]g END) / 1440.0),
	firstRespondedAt = COALESCE((SELECT createdAt FROM messages m WHERE m.ticket = tickets.id AND m.kind = 'answer' ORDER BY createdAt, rowid LIMIT 1), ''),
	firstRespondedBy = COALESCE((SELECT authorId FROM messages m WHERE m.ticket = tickets.id AND m.kind = 'answer' ORDER BY createdAt, rowid LIMIT 1), ''),
	resolvedAt = CASE WHEN ticketStatus = 'closed' THEN closedAt ELSE '' END;
INSERT INTO ticketHistory (id, ticket, event, by, byName, detail, at)
SELECT substr(lower(hex(randomblob(8))), 1, 15), id, 'slaBreached', '', '', '{"which":"firstResponse","backfilled":true}', %[6]s
FROM tickets WHERE %[6]s != '' AND %[6]s > firstResponseDueAt;
INSERT INTO ticketHistory (id, ticket, event, by, byName, detail, at)
SELECT substr(lower(hex(randomblob(8))), 1, 15), id, 'slaBreached', '', '', '{"which":"resolve","backfilled":true}', resolvedAt
FROM tickets WHERE resolvedAt != '' AND resolvedAt > resolveDueAt;
UPDATE tickets SET slaBreached = CASE
	WHEN resolvedAt != '' AND resolvedAt > resolveDueAt THEN 'resolve'
	WHEN %[6]s != '' AND %[6]s > firstResponseDueAt THEN 'firstResponse'
	ELSE '' END;
UPDATE tickets SET
	nextDueAt = CASE WHEN ticketStatus != 'active' THEN '' WHEN %[6]s = '' THEN min(firstResponseDueAt, resolveDueAt) ELSE resolveDueAt END,
	dueAt = CASE WHEN ticketStatus != 'active' THEN '' WHEN %[6]s = '' THEN min(firstResponseDueAt, resolveDueAt) ELSE resolveDueAt END;
`, slaDateFmt, hi[0], hi[1], normal[0], normal[1], slaDoneFirst)
		if _, err := app.DB().NewQuery(backfill).Execute(); err != nil {
			return err
		}
		if _, err := app.DB().NewQuery(slaTables).Execute(); err != nil {
			return err
		}
		if _, err := app.DB().NewQuery(slaFillReports).Execute(); err != nil {
			return err
		}
		if _, err := app.DB().NewQuery(slaTriggers).Execute(); err != nil {
			return err
		}
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return err
		}
		_, err = app.DB().NewQuery("INSERT OR IGNORE INTO portalSecrets (name, value) VALUES ('rating', {:v})").
			Bind(map[string]any{"v": hex.EncodeToString(key)}).Execute()
		return err
	}, func(app core.App) error {
		if _, err := app.DB().NewQuery(slaDropTriggers).Execute(); err != nil {
			return err
		}
		tickets, err := app.FindCollectionByNameOrId("tickets")
		if err != nil {
			return err
		}
		for _, f := range slaFields {
			tickets.Fields.RemoveByName(f)
		}
		tickets.RemoveIndex("idx_tickets_nextDueAt")
		tickets.RemoveIndex("idx_tickets_active_due")
		tickets.RemoveIndex("idx_tickets_report")
		return app.Save(tickets)
	})
}

// slaTargets reads the stored sla setting (high, normal: first response and
// resolve minutes), or the product defaults.
func slaTargets(app core.App) (high, normal [2]float64) {
	high, normal = [2]float64{60, 480}, [2]float64{480, 4320}
	var raw string
	if err := app.DB().NewQuery("SELECT sla FROM portalSettings WHERE id = 'portalsettings1'").Row(&raw); err != nil {
		return
	}
	var s map[string]struct {
		FirstResponseMinutes float64 `json:"firstResponseMinutes"`
		ResolveMinutes       float64 `json:"resolveMinutes"`
	}
	if json.Unmarshal([]byte(raw), &s) != nil {
		return
	}
	if h, ok := s["high"]; ok && h.FirstResponseMinutes > 0 && h.ResolveMinutes > 0 {
		high = [2]float64{h.FirstResponseMinutes, h.ResolveMinutes}
	}
	if n, ok := s["normal"]; ok && n.FirstResponseMinutes > 0 && n.ResolveMinutes > 0 {
		normal = [2]float64{n.FirstResponseMinutes, n.ResolveMinutes}
	}
	return
}
