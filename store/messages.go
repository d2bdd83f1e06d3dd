package store

import (
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/filesystem"

	"ticketportal/policy"
)

// Message is one message as it appears inside a ticket's JSON.
type Message struct {
	Id          string `json:"id"`
	Kind        string `json:"kind"`
	Body        string `json:"body"`
	AuthorId    string `json:"authorId"`
	AuthorName  string `json:"authorName"`
	CreatedAt   string `json:"createdAt"`
	Attachments []any  `json:"attachments"`
}

// Answer is one answer in Part 1's ticketAnswers shape.
type Answer struct {
	Id        string `json:"id"`
	Answer    string `json:"answer"`
	CreatedAt string `json:"createdAt"`
	AdminId   string `json:"adminId"`
}

// MessagesByTicket loads the messages of the given tickets in one query,
// oldest first, grouped by ticket id; notes only when withNotes.
func MessagesByTicket(app core.App, withNotes bool, ticketIds ...string) (map[string][]Message, error) {
	out := make(map[string][]Message, len(ticketIds))
	if len(ticketIds) == 0 {
		return out, nil
	}
	ids := make([]any, len(ticketIds))
	for i, id := range ticketIds {
		ids[i] = id
	}
	q := app.RecordQuery(policy.Messages).
		AndWhere(dbx.In("ticket", ids...)).
		OrderBy("ticket ASC", "createdAt ASC", "rowid ASC")
	if !withNotes {
		q.AndWhere(dbx.Not(dbx.HashExp{"kind": policy.KindNote}))
	}
	var rows []*core.Record
	if err := q.All(&rows); err != nil {
		return nil, err
	}
	for _, r := range rows {
		t := r.GetString("ticket")
		out[t] = append(out[t], Message{
			Id:          r.Id,
			Kind:        r.GetString("kind"),
			Body:        r.GetString("body"),
			AuthorId:    r.GetString("authorId"),
			AuthorName:  r.GetString("authorName"),
			CreatedAt:   r.GetDateTime("createdAt").String(),
			Attachments: attachmentsAny(r),
		})
	}
	return out, nil
}

// AnswersOf is Part 1's ticketAnswers: the answer messages in the old shape.
func AnswersOf(messages []Message) []Answer {
	out := []Answer{}
	for _, m := range messages {
		if m.Kind == policy.KindAnswer {
			out = append(out, Answer{Id: m.Id, Answer: m.Body, CreatedAt: m.CreatedAt, AdminId: m.AuthorId})
		}
	}
	return out
}

// ShapeTickets makes each ticket's JSON what the caller may see: its
// messages (notes only for staff) and ticketAnswers (never null), and, for
// anyone but staff, the staff-only fields hidden. Every surface uses it:
// the custom routes directly, the record API and realtime through the
// tickets' enrich hook.
func ShapeTickets(app core.App, staff bool, tickets ...*core.Record) error {
	ids := make([]string, len(tickets))
	for i, t := range tickets {
		ids[i] = t.Id
	}
	byTicket, err := MessagesByTicket(app, staff, ids...)
	if err != nil {
		return err
	}
	for _, t := range tickets {
		msgs := byTicket[t.Id]
		if msgs == nil {
			msgs = []Message{}
		}
		t.WithCustomData(true)
		t.Set("messages", msgs)
		t.Set("ticketAnswers", AnswersOf(msgs))
		if t.GetString("tags") == "" || t.GetString("tags") == "null" {
			t.Set("tags", []string{})
		}
		if !staff {
			t.Hide(policy.StaffOnlyTicketFields...)
		}
	}
	return nil
}

// AddMessage stores a message of kind by the account authorId on a ticket,
// deciding in the same transaction as the insert: an answer never lands on
// a ticket closed meanwhile (ErrClosed). The record hooks of messages do the
// rest in that transaction (the ticket's waitingOn and lastMessageAt, the
// history line, the answer mail, reopening on a reply). A missing ticket
// gives sql.ErrNoRows.
func AddMessage(app core.App, ticketId, kind, authorId, text string, files ...*filesystem.File) (*core.Record, error) {
	var msg *core.Record
	err := app.RunInTransaction(func(tx core.App) error {
		t, err := tx.FindRecordById(policy.Tickets, ticketId)
		if err != nil {
			return err
		}
		if kind == policy.KindAnswer && t.GetString("ticketStatus") == policy.StatusClosed {
			return ErrClosed
		}
		col, err := tx.FindCachedCollectionByNameOrId(policy.Messages)
		if err != nil {
			return err
		}
		msg = core.NewRecord(col)
		msg.Set("ticket", t.Id)
		msg.Set("kind", kind)
		msg.Set("body", text)
		msg.Set("authorId", authorId)
		if err := AttachFiles(tx, msg, files); err != nil {
			return err
		}
		return tx.Save(msg)
	})
	if err != nil {
		return nil, err
	}
	return msg, nil
}

// AddAnswer stores an answer (Part 1's route).
func AddAnswer(app core.App, ticketId, adminId, text string, files ...*filesystem.File) (*core.Record, error) {
	return AddMessage(app, ticketId, policy.KindAnswer, adminId, text, files...)
}
