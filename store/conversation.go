package store

import (
	"errors"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/filesystem"

	"ticketportal/policy"
)

// ErrTooManyTags refuses a tag change that would leave more than
// policy.MaxTags tags on a ticket.
var ErrTooManyTags = errors.New("a ticket has at most 10 tags")

// Reply stores a customer's reply on its ticket. On a ticket closed at most
// windowDays ago the reply reopens it (the messages' hook does it in the
// reply's transaction); past the window (or with a window of 0) the reply
// opens a new ticket that continues the closed one (followUpOf, same
// subject, the reply as its text), and followUp is true. The decision and
// the write share one transaction. The ticket returned is the one the reply
// is on, as stored.
func Reply(app core.App, ticketId, customerId, text string, windowDays int, now time.Time, files ...*filesystem.File) (ticket *core.Record, followUp bool, err error) {
	err = app.RunInTransaction(func(tx core.App) error {
		t, err := tx.FindRecordById(policy.Tickets, ticketId)
		if err != nil {
			return err
		}
		if t.GetString("ticketStatus") == policy.StatusClosed && !policy.WithinReopenWindow(t.GetDateTime("closedAt").Time(), now, windowDays) {
			next := core.NewRecord(t.Collection())
			next.Set("customerId", customerId)
			next.Set("ticketContent", text)
			next.Set("ticketSubject", t.GetString("ticketSubject"))
			next.Set("customerFirstName", t.GetString("customerFirstName"))
			next.Set("customerLastName", t.GetString("customerLastName"))
			next.Set("followUpOf", t.Id)
			if err := AttachFiles(tx, next, files); err != nil { // the reply's files go with it
				return err
			}
			if err := tx.Save(next); err != nil {
				return err
			}
			ticket, followUp = next, true
			return nil
		}
		col, err := tx.FindCachedCollectionByNameOrId(policy.Messages)
		if err != nil {
			return err
		}
		m := core.NewRecord(col)
		m.Set("ticket", t.Id)
		m.Set("kind", policy.KindReply)
		m.Set("body", text)
		m.Set("authorId", customerId)
		if err := AttachFiles(tx, m, files); err != nil {
			return err
		}
		if err := tx.Save(m); err != nil {
			return err
		}
		ticket, err = tx.FindRecordById(policy.Tickets, t.Id)
		return err
	})
	return ticket, followUp, err
}

// TagTicket adds and removes tags (already normalized) on a ticket in the
// name of by, in one transaction; the tickets' hooks write the history line.
func TagTicket(app core.App, ticketId string, add, remove []string, by string) (*core.Record, error) {
	var ticket *core.Record
	err := app.RunInTransaction(func(tx core.App) error {
		t, err := tx.FindRecordById(policy.Tickets, ticketId)
		if err != nil {
			return err
		}
		var tags []string
		_ = t.UnmarshalJSONField("tags", &tags)
		next := []string{}
		for _, tag := range tags {
			if !contains(remove, tag) {
				next = append(next, tag)
			}
		}
		for _, tag := range add {
			if !contains(next, tag) && !contains(remove, tag) {
				next = append(next, tag)
			}
		}
		if len(next) > policy.MaxTags {
			return ErrTooManyTags
		}
		t.Set("tags", next)
		t.Set("markedBy", by)
		if err := tx.Save(t); err != nil {
			return err
		}
		ticket = t
		return nil
	})
	return ticket, err
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// HistoryLine is one line of a ticket's history as the routes show it.
type HistoryLine struct {
	Id       string         `json:"id"`
	TicketId string         `json:"ticketId"`
	Event    string         `json:"event"`
	By       string         `json:"by"`
	ByName   string         `json:"byName"`
	At       string         `json:"at"`
	Detail   map[string]any `json:"detail"`
}

// History returns one page of a ticket's history, oldest first, and the
// number of its lines.
func History(app core.App, ticketId string, offset, limit int64) ([]HistoryLine, int64, error) {
	where := dbx.HashExp{"ticket": ticketId}
	total, err := app.CountRecords(policy.History, where)
	if err != nil {
		return nil, 0, err
	}
	out := []HistoryLine{}
	if offset >= total {
		return out, total, nil
	}
	var rows []*core.Record
	err = app.RecordQuery(policy.History).AndWhere(where).OrderBy("at ASC", "rowid ASC").Offset(offset).Limit(limit).All(&rows)
	if err != nil {
		return nil, 0, err
	}
	for _, r := range rows {
		d := map[string]any{}
		_ = r.UnmarshalJSONField("detail", &d)
		out = append(out, HistoryLine{
			Id: r.Id, TicketId: r.GetString("ticket"), Event: r.GetString("event"), By: r.GetString("by"),
			ByName: r.GetString("byName"), At: r.GetDateTime("at").String(), Detail: d,
		})
	}
	return out, total, nil
}

// QueueFilter is the staff lists' optional filters (?tag, ?waitingOn,
// ?takenBy), already checked.
type QueueFilter struct {
	Tag       string
	WaitingOn string
	TakenBy   string // an account id, or TakenByNone
}

// TakenByNone selects the tickets nobody holds.
const TakenByNone = "\x00none"

// Empty says whether no filter is set (the list's counter holds its total).
func (f QueueFilter) Empty() bool { return f == QueueFilter{} }

// Where is the filters' condition on tickets (nil for none).
func (f QueueFilter) Where() dbx.Expression {
	var and []dbx.Expression
	if f.Tag != "" {
		and = append(and, dbx.NewExp("EXISTS (SELECT 1 FROM json_each([[tickets.tags]]) WHERE value = {:tag})", dbx.Params{"tag": f.Tag}))
	}
	if f.WaitingOn != "" {
		and = append(and, dbx.HashExp{"waitingOn": f.WaitingOn})
	}
	switch f.TakenBy {
	case "":
	case TakenByNone:
		and = append(and, dbx.HashExp{"takenBy": ""})
	default:
		and = append(and, dbx.HashExp{"takenBy": f.TakenBy})
	}
	if len(and) == 0 {
		return nil
	}
	return dbx.And(and...)
}
