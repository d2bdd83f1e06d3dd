package hooks

import (
	"sync"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
)

// event is one record event being fanned out: the record, and what is
// worked out once for all its subscribers.
type event struct {
	app    core.App
	record *core.Record

	ticketOnce   sync.Once
	ticketState  [2]string // customerId, ticketStatus of the ticket the event is about
	ticketLoaded bool

	messages sync.Map // message key -> encoded message
}

func newEvent(app core.App, record *core.Record) *event {
	return &event{app: app, record: record}
}

// allowed applies a collection rule to one subscriber. While the tickets'
// and answers' rules are the policy's own, it decides with
// policy.TicketVisible (checked against the rules by the policy tests)
// instead of one query per subscriber; any other rule is evaluated by
// PocketBase.
func (ev *event) allowed(info *core.RequestInfo, rule *string) bool {
	if info.HasSuperuserAuth() {
		return true
	}
	if rule != nil {
		switch name := ev.record.Collection().Name; {
		case name == policy.Tickets && *rule == policy.TicketsViewRule:
			if state, ok := ev.ticket(); ok {
				return policy.TicketVisible(info.Auth, state[0], state[1])
			}
		case name == policy.Messages && *rule == policy.MessagesViewRule:
			if state, ok := ev.ticket(); ok {
				return policy.MessageVisible(info.Auth, state[0], state[1], ev.record.GetString("kind"))
			}
		}
	}
	ok, _ := ev.app.CanAccessRecord(ev.record, info, rule)
	return ok
}

// ticket is the customer and status of the ticket the event is about: the
// record itself, or a message's ticket (read once per event).
func (ev *event) ticket() ([2]string, bool) {
	ev.ticketOnce.Do(func() {
		t := ev.record
		if t.Collection().Name == policy.Messages {
			var err error
			if t, err = ev.app.FindRecordById(policy.Tickets, t.GetString("ticket")); err != nil {
				return
			}
		}
		ev.ticketState = [2]string{t.GetString("customerId"), t.GetString("ticketStatus")}
		ev.ticketLoaded = true
	})
	return ev.ticketState, ev.ticketLoaded
}
