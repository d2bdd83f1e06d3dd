package hooks

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"ticketportal/mail"
	"ticketportal/policy"
	"ticketportal/settings"
	"ticketportal/store"
)

// The conversation's side effects follow the data: whatever surface writes a
// ticket or a message (custom route, record API, batch, dashboard), these
// record hooks keep waitingOn, lastMessageAt, takenByName and closedAt,
// append the history line and queue the answer mail inside the transaction
// of the write.
//
// Who made a change to a ticket ("by" in its history) is the ticket's
// markedBy as the write leaves it: the routes and the store set it, the
// record API's request hook sets it to the caller, and other Go code that
// changes a ticket sets it too ("" for the system).

func bindConversation(app core.App) {
	// The record API and the dashboard name the caller as the actor.
	app.OnRecordUpdateRequest(policy.Tickets).BindFunc(func(e *core.RecordRequestEvent) error {
		if e.Auth != nil {
			e.Record.Set("markedBy", e.Auth.Id)
		}
		return e.Next()
	})

	// A new ticket: subject, waitingOn and tags defaults; its history starts.
	app.OnRecordCreate(policy.Tickets).BindFunc(func(e *core.RecordEvent) error {
		t := e.Record
		if strings.TrimSpace(t.GetString("ticketSubject")) == "" {
			t.Set("ticketSubject", policy.DefaultSubject(t.GetString("ticketContent")))
		}
		if t.GetString("waitingOn") == "" {
			t.Set("waitingOn", policy.WaitingOnAgent)
		}
		return inTx(e, func(tx core.App) error {
			return appendHistory(tx, t.Id, policy.EventCreated, t.GetString("customerId"), detail{})
		})
	})

	// Derived fields of every write: tags normalized and bounded, the
	// holder's name, the closing time.
	app.OnRecordValidate(policy.Tickets).BindFunc(func(e *core.RecordEvent) error {
		t := e.Record
		tags, err := policy.NormalizeTags(jsonStrings(t.Get("tags")))
		if err != nil {
			return validation.Errors{"tags": validation.NewError("validation_invalid_tags", err.Error())}
		}
		t.Set("tags", tags)
		orig := t.Original()
		if t.IsNew() || orig.GetString("takenBy") != t.GetString("takenBy") || t.GetString("takenByName") == "" {
			t.Set("takenByName", accountName(e.App, t.GetString("takenBy")))
		}
		status := t.GetString("ticketStatus")
		if status == policy.StatusClosed && (t.IsNew() || orig.GetString("ticketStatus") != policy.StatusClosed) && t.GetDateTime("closedAt").IsZero() {
			t.Set("closedAt", types.NowDateTime())
		}
		if status == policy.StatusActive && !t.IsNew() && orig.GetString("ticketStatus") == policy.StatusClosed {
			t.Set("closedAt", "")
		}
		return e.Next()
	})

	// A changed ticket gets one history line per change, in the write's
	// transaction.
	app.OnRecordUpdate(policy.Tickets).BindFunc(func(e *core.RecordEvent) error {
		before := e.Record.Original()
		return inTx(e, func(tx core.App) error {
			for _, ev := range ticketChanges(before, e.Record) {
				if err := appendHistory(tx, e.Record.Id, ev.event, e.Record.GetString("markedBy"), ev.detail); err != nil {
					return err
				}
			}
			return nil
		})
	})

	// A ticket's JSON carries its conversation as the requester may see it
	// (record API view/list/expand, realtime), without the staff-only fields
	// for a customer.
	app.OnRecordEnrich(policy.Tickets).BindFunc(func(e *core.RecordEnrichEvent) error {
		if err := store.ShapeTickets(e.App, policy.StaffRequest(e.RequestInfo), e.Record); err != nil {
			return err
		}
		return e.Next()
	})

	// A new message: its author's name; a reply to a closed ticket reopens
	// it within the window (past it only /replyOnTicket may start a
	// follow-up); then its ticket, history line and mail, all in the
	// message's transaction.
	app.OnRecordCreate(policy.Messages).BindFunc(func(e *core.RecordEvent) error {
		m := e.Record
		if m.GetString("authorName") == "" {
			m.Set("authorName", accountName(e.App, m.GetString("authorId")))
		}
		return inTx(e, func(tx core.App) error {
			return afterMessage(tx, m)
		})
	})

	// A reply to a closed ticket past the reopen window is refused before it
	// is written (the record API gets a 400 saying what to do).
	app.OnRecordValidate(policy.Messages).BindFunc(func(e *core.RecordEvent) error {
		m := e.Record
		if !m.IsNew() || m.GetString("kind") != policy.KindReply {
			return e.Next()
		}
		t, err := e.App.FindRecordById(policy.Tickets, m.GetString("ticket"))
		if err == nil && t.GetString("ticketStatus") == policy.StatusClosed &&
			!policy.WithinReopenWindow(t.GetDateTime("closedAt").Time(), time.Now(), settings.Get(e.App).ReopenWindowDays) {
			return validation.Errors{"ticket": validation.NewError("validation_reopen_window_passed",
				"The ticket was closed too long ago to reopen; POST /replyOnTicket starts a follow-up ticket.")}
		}
		return e.Next()
	})
}

// inTx runs the rest of the create or update chain and then after inside one
// transaction, so that the write and its side effects commit together.
func inTx(e *core.RecordEvent, after func(tx core.App) error) error {
	orig := e.App
	defer func() { e.App = orig }()
	return orig.RunInTransaction(func(tx core.App) error {
		e.App = tx
		if err := e.Next(); err != nil {
			return err
		}
		return after(tx)
	})
}

// afterMessage updates the message's ticket, writes its history line and
// queues the answer mail.
func afterMessage(tx core.App, m *core.Record) error {
	kind := m.GetString("kind")
	author := m.GetString("authorId")
	t, err := tx.FindRecordById(policy.Tickets, m.GetString("ticket"))
	if err != nil {
		return err
	}
	events := map[string]string{policy.KindAnswer: policy.EventAnswered, policy.KindReply: policy.EventReplied, policy.KindNote: policy.EventNoted}
	if err := appendHistory(tx, t.Id, events[kind], author, detail{"messageId": m.Id}); err != nil {
		return err
	}
	if kind == policy.KindNote {
		// A note does not touch the ticket: its customer must not even hear
		// that something happened. Staff hear it on the messages collection.
		return nil
	}
	t.Set("lastMessageAt", m.GetDateTime("createdAt"))
	if kind == policy.KindReply {
		t.Set("waitingOn", policy.WaitingOnAgent)
		if t.GetString("ticketStatus") == policy.StatusClosed {
			t.Set("ticketStatus", policy.StatusActive)
			t.Set("takenBy", "")
			t.Set("markedBy", author) // the reopening's actor, for its history line
		}
	} else {
		t.Set("waitingOn", policy.WaitingOnCustomer)
	}
	if err := tx.Save(t); err != nil {
		return err
	}
	if kind == policy.KindAnswer {
		return queueAnswerMail(tx, t, m)
	}
	return nil
}

// queueAnswerMail puts "your ticket has a new answer" in the outbox, in the
// answer's transaction, threaded with the ticket's other mails.
func queueAnswerMail(tx core.App, ticket, answer *core.Record) error {
	files, fileLinks := answerMailFiles(tx, answer) // hooks/files_mail.go
	_, err := mail.QueueTicketMail(tx, ticket, mail.TicketMail{
		Template: "ticket_answer",
		Values: map[string]any{
			"name":      ticket.GetString("customerFirstName"),
			"ticketId":  ticket.Id,
			"ticket":    excerpt(ticket.GetString("ticketContent"), 200),
			"answer":    answer.GetString("body"),
			"fileLinks": fileLinks,
		},
		Attachments: files,
	})
	return err
}

// excerpt shortens s to at most n characters.
func excerpt(s string, n int) string {
	r := []rune(strings.TrimSpace(s))
	if len(r) <= n {
		return string(r)
	}
	return strings.TrimSpace(string(r[:n])) + "…"
}

type detail map[string]any

type change struct {
	event  string
	detail detail
}

// ticketChanges lists the history events of one ticket update.
func ticketChanges(before, after *core.Record) []change {
	var out []change
	if b, a := before.GetString("ticketStatus"), after.GetString("ticketStatus"); b != a {
		if a == policy.StatusClosed {
			out = append(out, change{policy.EventClosed, detail{}})
		} else if b == policy.StatusClosed {
			out = append(out, change{policy.EventReopened, detail{}})
		}
	}
	if b, a := before.GetString("takenBy"), after.GetString("takenBy"); b != a {
		by := after.GetString("markedBy")
		switch {
		case a == "":
			if after.GetString("ticketStatus") == before.GetString("ticketStatus") {
				out = append(out, change{policy.EventReleased, detail{"from": b}})
			}
		case a == by && b == "":
			out = append(out, change{policy.EventTaken, detail{}})
		default:
			out = append(out, change{policy.EventAssigned, detail{"to": a, "toName": after.GetString("takenByName"), "from": b}})
		}
	}
	if b, a := before.GetBool("isHighPriority"), after.GetBool("isHighPriority"); b != a {
		out = append(out, change{policy.EventPrioritized, detail{"high": a}})
	}
	bt, at := jsonStrings(before.Get("tags")), jsonStrings(after.Get("tags"))
	if added, removed := diff(at, bt), diff(bt, at); len(added)+len(removed) > 0 {
		out = append(out, change{policy.EventTagged, detail{"added": added, "removed": removed}})
	}
	if b, a := before.GetString("rating"), after.GetString("rating"); b != a && a != "" {
		out = append(out, change{policy.EventRated, detail{"rating": a}})
	}
	return out
}

// diff is what a has and b has not.
func diff(a, b []string) []string {
	out := []string{}
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// jsonStrings reads a JSON field holding a list of strings (nil for none
// or anything else).
func jsonStrings(v any) []string {
	var raw []byte
	switch x := v.(type) {
	case []string:
		return x
	case types.JSONRaw:
		raw = x
	case []byte:
		raw = x
	case string:
		raw = []byte(x)
	case nil:
		return nil
	default:
		raw, _ = json.Marshal(x)
	}
	var out []string
	if len(raw) == 0 || json.Unmarshal(raw, &out) != nil {
		if len(raw) > 0 && string(raw) != "null" {
			return []string{"\x00invalid"} // refused by NormalizeTags
		}
		return nil
	}
	return out
}

// appendHistory writes one history line; the history has no API write
// rules, so lines come only from here.
func appendHistory(app core.App, ticketId, event, by string, d detail) error {
	col, err := app.FindCachedCollectionByNameOrId(policy.History)
	if err != nil {
		return err
	}
	h := core.NewRecord(col)
	h.Set("ticket", ticketId)
	h.Set("event", event)
	h.Set("by", by)
	h.Set("byName", accountName(app, by))
	h.Set("detail", d)
	return app.Save(h)
}

// accountName names an account for the history and the conversation: an
// agent's or customer's user name, "operator" for a superuser, "" for none.
func accountName(app core.App, id string) string {
	if id == "" {
		return ""
	}
	for _, c := range []string{policy.Admins, policy.Users} {
		if r, err := app.FindRecordById(c, id); err == nil {
			return r.GetString("userName")
		}
	}
	if _, err := app.FindRecordById(core.CollectionNameSuperusers, id); err == nil {
		return "operator"
	}
	return ""
}
