package hooks

import (
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"ticketportal/mail"
	"ticketportal/policy"
	"ticketportal/rating"
	"ticketportal/settings"
	"ticketportal/sla"
	"ticketportal/store"
)

// bindSLA keeps every ticket's service-level clock whatever surface writes
// it, wakes the breach scheduler when a deadline moves, and queues the
// rating mail when a ticket is closed.
func bindSLA(app core.App) {
	// Nobody but the server writes the clock (operators aside, who may mend
	// data from the dashboard).
	refuse := func(e *core.RecordRequestEvent) error {
		if e.HasSuperuserAuth() {
			return e.Next()
		}
		body, err := e.RequestInfo()
		if err == nil && body != nil {
			for _, f := range policy.SLAFields {
				if _, ok := body.Body[f]; ok {
					return e.BadRequestError("The service-level fields are kept by the server.", nil)
				}
			}
		}
		return e.Next()
	}
	app.OnRecordCreateRequest(policy.Tickets).BindFunc(refuse)
	app.OnRecordUpdateRequest(policy.Tickets).BindFunc(refuse)

	// Deadlines when sent and when the priority changes; the first answer,
	// the close; when the scheduler must look next; the sort key.
	app.OnRecordValidate(policy.Tickets).BindFunc(func(e *core.RecordEvent) error {
		if err := applyClock(e.App, e.Record); err != nil {
			return err
		}
		return e.Next()
	})

	wake := func(e *core.RecordEvent) error {
		if next := e.Record.GetString("nextDueAt"); next != "" && (e.Record.IsNew() || next != e.Record.Original().GetString("nextDueAt")) {
			schedulerOf(e.App).Wake()
		}
		return e.Next()
	}
	app.OnRecordAfterCreateSuccess(policy.Tickets).BindFunc(wake)
	app.OnRecordAfterUpdateSuccess(policy.Tickets).BindFunc(wake)

	// Closing a ticket mails its customer a one-click rating (setting csat),
	// queued in the close's transaction.
	app.OnRecordUpdate(policy.Tickets).BindFunc(func(e *core.RecordEvent) error {
		closing := e.Record.GetString("ticketStatus") == policy.StatusClosed &&
			e.Record.Original().GetString("ticketStatus") != policy.StatusClosed
		if !closing {
			return e.Next()
		}
		return inTx(e, func(tx core.App) error {
			if !settings.Get(tx).CSAT {
				return nil
			}
			return queueRatingMail(tx, e.Record)
		})
	})

	bindScheduler(app)
	bindStaffOnlyFilters(app)
}

// applyClock sets the service-level fields of t from its data.
func applyClock(app core.App, t *core.Record) error {
	orig := t.Original()
	sent := t.GetDateTime("createdAt").Time()
	if sent.IsZero() {
		// A new ticket: fix its createdAt now (PocketBase keeps a value set
		// with SetRaw), so that the deadlines count from exactly it.
		now := types.NowDateTime()
		t.SetRaw("createdAt", now)
		sent = now.Time()
	}
	if t.IsNew() || t.GetBool("isHighPriority") != orig.GetBool("isHighPriority") || t.GetDateTime("resolveDueAt").IsZero() {
		first, resolve := sla.Due(sent, t.GetBool("isHighPriority"), settings.Get(app).SLA)
		t.Set("firstResponseDueAt", first)
		t.Set("resolveDueAt", resolve)
	}
	if !t.IsNew() && t.GetDateTime("firstRespondedAt").IsZero() {
		if at, by, found := store.FirstAnswer(app, t.Id); found {
			t.Set("firstRespondedAt", at)
			t.Set("firstRespondedBy", by)
		}
	}
	if t.GetString("ticketStatus") == policy.StatusClosed {
		if t.GetDateTime("resolvedAt").IsZero() {
			closed := t.GetDateTime("closedAt")
			if closed.IsZero() {
				closed = types.NowDateTime()
			}
			t.Set("resolvedAt", closed)
		}
	} else {
		t.Set("resolvedAt", "")
	}

	clock, err := clockOf(app, t)
	if err != nil {
		return err
	}
	t.Set("nextDueAt", dateOrEmpty(clock.NextCheck()))
	t.Set("dueAt", dateOrEmpty(clock.SortDue()))
	return nil
}

// clockOf reads the ticket's service-level state; the deadlines already
// recorded as breached are those with a slaBreached history line.
func clockOf(app core.App, t *core.Record) (sla.Ticket, error) {
	c := sla.Ticket{
		Active:           t.GetString("ticketStatus") == policy.StatusActive,
		FirstResponseDue: t.GetDateTime("firstResponseDueAt").Time(),
		ResolveDue:       t.GetDateTime("resolveDueAt").Time(),
		FirstRespondedAt: t.GetDateTime("firstRespondedAt").Time(),
		ResolvedAt:       t.GetDateTime("resolvedAt").Time(),
		Announced:        map[sla.Which]bool{},
	}
	if t.IsNew() || (t.GetString("slaBreached") == "" && t.Original().GetString("slaBreached") == "") {
		return c, nil // a breach always sets slaBreached: no line to look for
	}
	which, err := store.BreachesRecorded(app, t.Id)
	if err != nil {
		return c, err
	}
	for _, w := range which {
		c.Announced[sla.Which(w)] = true
	}
	return c, nil
}

func dateOrEmpty(t time.Time) any {
	if t.IsZero() {
		return ""
	}
	return t
}

// queueRatingMail puts the rating mail of a ticket just closed in the
// outbox, in the close's transaction.
func queueRatingMail(tx core.App, t *core.Record) error {
	key, err := rating.Key(tx)
	if err != nil {
		return err
	}
	token := rating.NewToken(key, t.Id, sla.Now(tx))
	base := tx.Settings().Meta.AppURL
	// a ticket mail like the others: threaded, with the ticket's reply address
	_, err = mail.QueueTicketMail(tx, t, mail.TicketMail{
		Template: "ticket_rating",
		Values: map[string]any{
			"name":     t.GetString("customerFirstName"),
			"ticketId": t.Id,
			"subject":  t.GetString("ticketSubject"),
			"goodURL":  rating.Link(base, token, rating.Good),
			"badURL":   rating.Link(base, token, rating.Bad),
		},
		AutoSubmitted: "auto-generated",
	})
	return err
}
