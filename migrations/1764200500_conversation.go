package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// The conversation: the helpdesk settings, the messages of
// a ticket (answer, reply, note) that replace the ticketAnswers collection,
// the append-only ticket history and the new ticket fields.
//
// Every name and rule below is a literal: this migration is history, and a
// later change of the policy is a later migration (policy/rules.go holds the
// rules in force; policy/rules_test.go checks that they are the stored ones).
//
// The Part 1 answers are copied into messages as kind "answer" with the same
// ids and times, then the ticketAnswers collection is dropped: one home for
// a ticket's conversation, so that an answer can never be in one and not the
// other. The routes still show them as ticketAnswers in the old shape.

const (
	convTicketsCreateRule = `@request.auth.collectionName = "users" && @request.auth.verified = true && @request.body.customerId = @request.auth.id` +
		` && @request.body.ticketStatus:isset = false && @request.body.isTaken:isset = false && @request.body.takenBy:isset = false` +
		` && @request.body.isHighPriority:isset = false && @request.body.customerUserName:isset = false && @request.body.userEmail:isset = false` +
		` && @request.body.markedBy:isset = false && @request.body.waitingOn:isset = false && @request.body.takenByName:isset = false` +
		` && @request.body.tags:isset = false && @request.body.followUpOf:isset = false && @request.body.rating:isset = false` +
		` && @request.body.ratingComment:isset = false && @request.body.closedAt:isset = false && @request.body.lastMessageAt:isset = false`
	convTicketsUpdateRule = `@request.auth.collectionName = "admins" && ticketStatus = "active"` +
		` && @request.body.customerId:isset = false && @request.body.customerUserName:isset = false` +
		` && @request.body.customerFirstName:isset = false && @request.body.customerLastName:isset = false` +
		` && @request.body.userEmail:isset = false && @request.body.ticketContent:isset = false` +
		` && @request.body.isTaken:isset = false && @request.body.markedBy:isset = false` +
		` && @request.body.ticketSubject:isset = false && @request.body.waitingOn:isset = false && @request.body.takenByName:isset = false` +
		` && @request.body.followUpOf:isset = false && @request.body.rating:isset = false && @request.body.ratingComment:isset = false` +
		` && @request.body.closedAt:isset = false && @request.body.lastMessageAt:isset = false` +
		` && (@request.body.isHighPriority:isset = false || @request.auth.role = "superAdmin")` +
		` && (@request.body.takenBy:isset = false || (@request.body.takenBy = @request.auth.id && (takenBy = "" || takenBy = @request.auth.id)))`

	convMessagesViewRule = `(ticket.customerId = @request.auth.id && kind != "note")` +
		` || (@request.auth.collectionName = "admins" && (@request.auth.role = "superAdmin" || ticket.ticketStatus = "active"))`
	convMessagesCreateRule = `@request.body.authorId = @request.auth.id && @request.body.authorName:isset = false && (` +
		`(@request.auth.collectionName = "users" && @request.auth.verified = true && @request.body.kind = "reply" && ticket.customerId = @request.auth.id)` +
		` || (@request.auth.collectionName = "admins" && ticket.ticketStatus = "active" && (@request.body.kind = "answer" || @request.body.kind = "note"))` +
		` || (@request.auth.collectionName = "admins" && @request.auth.role = "superAdmin" && @request.body.kind = "note"))`

	convHistoryViewRule = `@request.auth.collectionName = "admins" && (@request.auth.role = "superAdmin" || ticket.ticketStatus = "active")`
)

// convTriggers: a message or history line always belongs to a ticket that
// exists, whatever writes it (the relation field alone is not checked by
// SQLite).
const convTriggers = `
CREATE TRIGGER IF NOT EXISTS messages_ticket_exists BEFORE INSERT ON messages
WHEN NOT EXISTS (SELECT 1 FROM tickets WHERE id = NEW.ticket) BEGIN
	SELECT RAISE(ABORT, 'the ticket of a message must exist');
END;
CREATE TRIGGER IF NOT EXISTS messages_ticket_fixed BEFORE UPDATE OF ticket ON messages
WHEN NEW.ticket IS NOT OLD.ticket BEGIN
	SELECT RAISE(ABORT, 'a message cannot move to another ticket');
END;
CREATE TRIGGER IF NOT EXISTS ticketHistory_ticket_exists BEFORE INSERT ON ticketHistory
WHEN NOT EXISTS (SELECT 1 FROM tickets WHERE id = NEW.ticket) BEGIN
	SELECT RAISE(ABORT, 'the ticket of a history line must exist');
END;
`

// convCopyAnswers moves the Part 1 answers and fills the new ticket fields
// of existing tickets.
const convCopyAnswers = `
INSERT INTO messages (id, ticket, kind, body, authorId, authorName, createdAt, updatedAt)
SELECT a.id, a.ticket, 'answer', a.answer, a.adminId, COALESCE((SELECT userName FROM admins WHERE id = a.adminId), ''), a.createdAt, a.updatedAt
FROM ticketAnswers a WHERE EXISTS (SELECT 1 FROM tickets t WHERE t.id = a.ticket);

UPDATE tickets SET
	ticketSubject = substr(trim(CASE WHEN instr(ticketContent, char(10)) > 0 THEN substr(ticketContent, 1, instr(ticketContent, char(10)) - 1) ELSE ticketContent END, ' ' || char(9) || char(13)), 1, 120),
	lastMessageAt = COALESCE((SELECT MAX(createdAt) FROM messages m WHERE m.ticket = tickets.id), ''),
	waitingOn = CASE WHEN EXISTS (SELECT 1 FROM messages m WHERE m.ticket = tickets.id) THEN 'customer' ELSE 'agent' END,
	takenByName = COALESCE((SELECT userName FROM admins WHERE id = tickets.takenBy), ''),
	tags = '[]',
	closedAt = CASE WHEN ticketStatus = 'closed' THEN updatedAt ELSE '' END;

INSERT INTO ticketHistory (id, ticket, event, by, byName, detail, at)
SELECT substr(lower(hex(randomblob(8))), 1, 15), id, 'created', customerId, customerUserName, '{}', createdAt FROM tickets;
INSERT INTO ticketHistory (id, ticket, event, by, byName, detail, at)
SELECT substr(lower(hex(randomblob(8))), 1, 15), ticket, 'answered', authorId, authorName, json_object('messageId', id), createdAt FROM messages;
`

func init() {
	m.Register(func(app core.App) error {
		if err := createPortalSettings(app); err != nil {
			return err
		}
		tickets, err := app.FindCollectionByNameOrId("tickets")
		if err != nil {
			return err
		}
		tickets.Fields.Add(
			&core.TextField{Name: "ticketSubject", Max: 200},
			&core.SelectField{Name: "waitingOn", MaxSelect: 1, Values: []string{"agent", "customer"}},
			&core.TextField{Name: "takenByName", Max: 100},
			&core.JSONField{Name: "tags", MaxSize: 2000, Help: "staff only: lowercase tags, at most 10"},
			&core.TextField{Name: "followUpOf", Max: 15, Pattern: idPattern, Help: "the closed ticket this one continues"},
			&core.SelectField{Name: "rating", MaxSelect: 1, Values: []string{"good", "bad"}},
			&core.TextField{Name: "ratingComment", Max: 2000},
			&core.DateField{Name: "closedAt"},
			&core.DateField{Name: "lastMessageAt"},
		)
		tickets.AddIndex("idx_tickets_followUpOf", false, "followUpOf", "followUpOf != ''")
		tickets.CreateRule = types.Pointer(convTicketsCreateRule)
		tickets.UpdateRule = types.Pointer(convTicketsUpdateRule)
		if err := app.Save(tickets); err != nil {
			return err
		}

		messages := core.NewBaseCollection("messages")
		messages.Fields.Add(
			&core.RelationField{Name: "ticket", CollectionId: tickets.Id, Required: true, MaxSelect: 1, CascadeDelete: true},
			&core.SelectField{Name: "kind", Required: true, MaxSelect: 1, Values: []string{"answer", "reply", "note"}},
			&core.TextField{Name: "body", Required: true, Max: 10000},
			&core.TextField{Name: "authorId", Max: 15, Pattern: idPattern},
			&core.TextField{Name: "authorName", Max: 100},
			&core.AutodateField{Name: "createdAt", OnCreate: true},
			&core.AutodateField{Name: "updatedAt", OnCreate: true, OnUpdate: true},
		)
		messages.AddIndex("idx_messages_ticket", false, "ticket, createdAt", "")
		messages.ListRule = types.Pointer(convMessagesViewRule)
		messages.ViewRule = types.Pointer(convMessagesViewRule)
		messages.CreateRule = types.Pointer(convMessagesCreateRule)
		messages.UpdateRule = nil // operators only
		messages.DeleteRule = nil
		if err := app.Save(messages); err != nil {
			return err
		}

		history := core.NewBaseCollection("ticketHistory")
		history.Fields.Add(
			&core.RelationField{Name: "ticket", CollectionId: tickets.Id, Required: true, MaxSelect: 1, CascadeDelete: true},
			&core.SelectField{Name: "event", Required: true, MaxSelect: 1, Values: []string{
				"created", "replied", "answered", "noted", "taken", "released", "assigned", "closed", "reopened",
				"prioritized", "tagged", "rated", "slaBreached", "mailSent", "mailFailed", "mailReceived"}},
			&core.TextField{Name: "by", Max: 15, Help: "the account that made the change, or empty"},
			&core.TextField{Name: "byName", Max: 100},
			&core.JSONField{Name: "detail", MaxSize: 10000},
			&core.AutodateField{Name: "at", OnCreate: true},
		)
		history.AddIndex("idx_ticketHistory_ticket", false, "ticket, at", "")
		history.ListRule = types.Pointer(convHistoryViewRule)
		history.ViewRule = types.Pointer(convHistoryViewRule)
		history.CreateRule, history.UpdateRule, history.DeleteRule = nil, nil, nil // written by hooks; append-only
		if err := app.Save(history); err != nil {
			return err
		}

		if _, err := app.DB().NewQuery(convTriggers).Execute(); err != nil {
			return err
		}
		if _, err := app.DB().NewQuery(convCopyAnswers).Execute(); err != nil {
			return err
		}
		answers, err := app.FindCollectionByNameOrId("ticketAnswers")
		if err != nil {
			return err
		}
		return app.Delete(answers)
	}, func(app core.App) error {
		tickets, err := app.FindCollectionByNameOrId("tickets")
		if err != nil {
			return err
		}
		if err := createAnswers(app, tickets); err != nil {
			return err
		}
		_, err = app.DB().NewQuery(`INSERT INTO ticketAnswers (id, ticket, answer, adminId, createdAt, updatedAt)
			SELECT id, ticket, body, authorId, createdAt, updatedAt FROM messages WHERE kind = 'answer' AND authorId != ''`).Execute()
		if err != nil {
			return err
		}
		for _, name := range []string{"ticketHistory", "messages", "portalSettings"} {
			c, err := app.FindCollectionByNameOrId(name)
			if err != nil {
				return err
			}
			if err := app.Delete(c); err != nil {
				return err
			}
		}
		for _, f := range []string{"ticketSubject", "waitingOn", "takenByName", "tags", "followUpOf", "rating", "ratingComment", "closedAt", "lastMessageAt"} {
			tickets.Fields.RemoveByName(f)
		}
		tickets.RemoveIndex("idx_tickets_followUpOf")
		tickets.CreateRule = types.Pointer(initTicketsCreateRule)
		tickets.UpdateRule = types.Pointer(initTicketsUpdateRule)
		return app.Save(tickets)
	})
}

// createPortalSettings makes the settings collection with its one record,
// holding the product defaults (the environment is applied at start).
func createPortalSettings(app core.App) error {
	c := core.NewBaseCollection("portalSettings")
	c.Fields.Add(
		&core.NumberField{Name: "reopenWindowDays", OnlyInt: true, Help: "a reply to a ticket closed at most this many days ago reopens it; later (or 0) starts a follow-up"},
		&core.TextField{Name: "inboundAddress", Max: 254, Help: "the support mailbox, e.g. support@example.com"},
		&core.SelectField{Name: "inboundNewTickets", Required: true, MaxSelect: 1, Values: []string{"anyone", "customers", "off"}},
		&core.NumberField{Name: "maxAttachmentMB", OnlyInt: true},
		&core.NumberField{Name: "maxAttachments", OnlyInt: true},
		&core.JSONField{Name: "sla", MaxSize: 2000},
		&core.BoolField{Name: "csat"},
		&core.BoolField{Name: "autoReply"},
		&core.AutodateField{Name: "createdAt", OnCreate: true},
		&core.AutodateField{Name: "updatedAt", OnCreate: true, OnUpdate: true},
	)
	// nil rules: operators only (superAdmins go through /portalSettings).
	c.ListRule, c.ViewRule, c.CreateRule, c.UpdateRule, c.DeleteRule = nil, nil, nil, nil, nil
	if err := app.Save(c); err != nil {
		return err
	}
	r := core.NewRecord(c)
	r.Id = "portalsettings1"
	r.Set("reopenWindowDays", 14)
	r.Set("inboundAddress", "")
	r.Set("inboundNewTickets", "anyone")
	r.Set("maxAttachmentMB", 10)
	r.Set("maxAttachments", 10)
	r.Set("sla", map[string]any{
		"high":   map[string]int{"firstResponseMinutes": 60, "resolveMinutes": 480},
		"normal": map[string]int{"firstResponseMinutes": 480, "resolveMinutes": 4320},
	})
	r.Set("csat", true)
	r.Set("autoReply", false)
	return app.SaveNoValidate(r)
}
