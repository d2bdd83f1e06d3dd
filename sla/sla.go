// Package sla is the service-level clock of a ticket as plain functions: the deadlines of a
// priority, which deadlines are still to watch, which are missed, and the
// next moment the scheduler has to look at a ticket.
package sla

import (
	"math"
	"time"

	"ticketportal/settings"
)

// Which names a deadline; its value is what slaBreached holds.
type Which string

const (
	FirstResponse Which = "firstResponse"
	Resolve       Which = "resolve"
)

// Deadlines lists both deadlines, in the order they are normally due.
var Deadlines = []Which{FirstResponse, Resolve}

// Minutes turns a target in (possibly fractional) minutes into a duration,
// to the millisecond (the precision of stored times).
func Minutes(m float64) time.Duration {
	return time.Duration(math.Round(m*60*1000)) * time.Millisecond
}

// Due is a ticket's pair of deadlines: counted from when it was sent, with
// the targets of its priority.
func Due(sent time.Time, high bool, s settings.SLA) (firstResponse, resolve time.Time) {
	t := s.Normal
	if high {
		t = s.High
	}
	return sent.Add(Minutes(t.FirstResponseMinutes)), sent.Add(Minutes(t.ResolveMinutes))
}

// Ticket is what the clock needs to know of a ticket. Zero times are unset.
type Ticket struct {
	Active           bool
	FirstResponseDue time.Time
	ResolveDue       time.Time
	FirstRespondedAt time.Time
	ResolvedAt       time.Time
	// Announced holds the deadlines whose breach is already recorded.
	Announced map[Which]bool
}

// DueOf is the deadline named w.
func (t Ticket) DueOf(w Which) time.Time {
	if w == FirstResponse {
		return t.FirstResponseDue
	}
	return t.ResolveDue
}

// DoneAt is when the work of deadline w was done (zero: not yet). Closing a
// ticket without an answer also ends its wait for a first response.
func (t Ticket) DoneAt(w Which) time.Time {
	if w == Resolve {
		return t.ResolvedAt
	}
	switch {
	case t.FirstRespondedAt.IsZero():
		return t.ResolvedAt
	case t.ResolvedAt.IsZero() || t.FirstRespondedAt.Before(t.ResolvedAt):
		return t.FirstRespondedAt
	}
	return t.ResolvedAt
}

// Watched says whether deadline w may still be (or already was, unnoticed)
// missed: it is set, its breach is not recorded yet, and its work is either
// undone on an active ticket or was done after the deadline.
func (t Ticket) Watched(w Which) bool {
	due := t.DueOf(w)
	if due.IsZero() || t.Announced[w] {
		return false
	}
	done := t.DoneAt(w)
	if done.IsZero() {
		return t.Active
	}
	return done.After(due)
}

// NextCheck is the earliest deadline still watched: when the scheduler must
// look at the ticket next (zero: never).
func (t Ticket) NextCheck() time.Time {
	var next time.Time
	for _, w := range Deadlines {
		if !t.Watched(w) {
			continue
		}
		if due := t.DueOf(w); next.IsZero() || due.Before(next) {
			next = due
		}
	}
	return next
}

// Missed lists the deadlines missed by now that are not recorded yet,
// earliest first.
func (t Ticket) Missed(now time.Time) []Which {
	var out []Which
	for _, w := range Deadlines {
		if t.Watched(w) && !t.DueOf(w).After(now) {
			out = append(out, w)
		}
	}
	if len(out) == 2 && t.DueOf(out[1]).Before(t.DueOf(out[0])) {
		out[0], out[1] = out[1], out[0]
	}
	return out
}

// LastMissed is what slaBreached becomes when the deadlines `missed` are
// recorded on a ticket whose slaBreached is `current`: the deadline missed
// last (the one due latest).
func (t Ticket) LastMissed(current Which, missed []Which) Which {
	last := current
	for _, w := range missed {
		if last == "" || !t.DueOf(w).Before(t.DueOf(last)) {
			last = w
		}
	}
	return last
}

// SortDue is the ticket's soonest deadline whose work is undone (missed or
// not): the key of the queue's ?sort=due. Zero when no work is pending.
func (t Ticket) SortDue() time.Time {
	if !t.Active {
		return time.Time{}
	}
	var next time.Time
	for _, w := range Deadlines {
		due := t.DueOf(w)
		if due.IsZero() || !t.DoneAt(w).IsZero() {
			continue
		}
		if next.IsZero() || due.Before(next) {
			next = due
		}
	}
	return next
}
