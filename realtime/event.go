package realtime

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

	messages  sync.Map // message key -> encoded message
	recordKey string   // collection id/record id
}

func newEvent(app core.App, record *core.Record) *event {
	return &event{app: app, record: record, recordKey: record.Collection().Id + "/" + record.Id}
}

// key names the event's record, for coalescing its updates.
func (ev *event) key() string { return ev.recordKey }

// allowed applies a collection rule to one subscriber. While the tickets'
// and messages' rules are the policy's own, it decides with
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

// policyDecides tells whether rule, a rule of the event's collection, is
// the policy's own, which policy.TicketVisible decides.
func (ev *event) policyDecides(rule *string) bool {
	if rule == nil {
		return false
	}
	switch ev.record.Collection().Name {
	case policy.Tickets:
		return *rule == policy.TicketsViewRule
	case policy.Messages:
		return *rule == policy.MessagesViewRule
	}
	return false
}

// visibleTo is allowed for a subscriber with no options: a superuser
// hears everything, anyone else what policy.TicketVisible (or, for a
// message, policy.MessageVisible) allows (only asked when policyDecides the
// rule).
func (ev *event) visibleTo(auth *core.Record) bool {
	if auth != nil && auth.IsSuperuser() {
		return true
	}
	state, ok := ev.ticket()
	if !ok {
		return false
	}
	if ev.record.Collection().Name == policy.Messages {
		return policy.MessageVisible(auth, state[0], state[1], ev.record.GetString("kind"))
	}
	return policy.TicketVisible(auth, state[0], state[1])
}

// refusedByPolicy tells that no subscription of a client authenticated as
// auth may hear the event, whatever its options: both rules of the
// collection are the policy's and refuse auth. Options cannot widen a rule
// (a filter only narrows it), so the client is skipped unseen.
func (ev *event) refusedByPolicy(auth *core.Record) bool {
	c := ev.record.Collection()
	if !ev.policyDecides(c.ListRule) || !ev.policyDecides(c.ViewRule) {
		return false
	}
	return !ev.visibleTo(auth)
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
