package store

import (
	"errors"
	"fmt"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
)

// Mark is what an agent does to a ticket's handling state; its value is the
// ticketStatus the routes and the admin room announce.
type Mark string

const (
	Take       Mark = "taken"
	Close      Mark = "closed"
	Prioritize Mark = "high priority"
	Release    Mark = "released"
	Reopen     Mark = "reopened"
	Assign     Mark = "assigned"
)

// ErrClosed refuses a change to a closed ticket.
var ErrClosed = errors.New("the ticket is closed")

// HeldError refuses taking a ticket that another account holds.
type HeldError struct {
	By string // the holder's account id
}

func (e *HeldError) Error() string { return "the ticket is held by " + e.By }

// ErrNotHolder refuses releasing a ticket one does not hold.
var ErrNotHolder = errors.New("only the holder or a superAdmin may release the ticket")

// State is the part of a ticket that marks change.
type State struct {
	Status       string
	TakenBy      string
	HighPriority bool
}

// Apply decides what mark m by the account `by` does to a ticket in state s:
// the new state and whether anything changed, or why the mark is refused.
// Taking a ticket one already holds and closing a closed ticket change
// nothing; a closed ticket cannot be taken or prioritized.
func Apply(s State, m Mark, by string) (State, bool, error) {
	switch m {
	case Take:
		switch {
		case s.Status == policy.StatusClosed:
			return s, false, ErrClosed
		case s.TakenBy == by:
			return s, false, nil
		case s.TakenBy != "":
			return s, false, &HeldError{By: s.TakenBy}
		}
		s.TakenBy = by
		return s, true, nil
	case Close:
		if s.Status == policy.StatusClosed {
			return s, false, nil
		}
		s.Status = policy.StatusClosed
		return s, true, nil
	case Prioritize:
		switch {
		case s.Status == policy.StatusClosed:
			return s, false, ErrClosed
		case s.HighPriority:
			return s, false, nil
		}
		s.HighPriority = true
		return s, true, nil
	case Release:
		switch {
		case s.Status == policy.StatusClosed:
			return s, false, ErrClosed
		case s.TakenBy == "":
			return s, false, nil
		}
		s.TakenBy = ""
		return s, true, nil
	case Reopen:
		if s.Status == policy.StatusActive {
			return s, false, nil
		}
		s.Status = policy.StatusActive
		s.TakenBy = ""
		return s, true, nil
	}
	return s, false, fmt.Errorf("unknown mark %q", m)
}

func stateOf(t *core.Record) State {
	return State{Status: t.GetString("ticketStatus"), TakenBy: t.GetString("takenBy"), HighPriority: t.GetBool("isHighPriority")}
}

// ApplyAssign decides what assigning a ticket in state s to the account to
// ("" frees it) does.
func ApplyAssign(s State, to string) (State, bool, error) {
	switch {
	case s.Status == policy.StatusClosed:
		return s, false, ErrClosed
	case s.TakenBy == to:
		return s, false, nil
	}
	s.TakenBy = to
	return s, true, nil
}

// MarkTicket applies m by the account `by` to a ticket. The ticket is read,
// decided on and saved inside one transaction; PocketBase runs write
// transactions one at a time, so of two agents racing to take a ticket
// exactly one wins. The ticket is saved (and markedBy set) only when the
// mark changes it. A missing ticket gives sql.ErrNoRows.
func MarkTicket(app core.App, ticketId string, m Mark, by string) (*core.Record, error) {
	return markTicket(app, ticketId, m, by, "", false)
}

// ReleaseTicket frees a ticket in the name of by, who must hold it unless
// anyHolder (a superAdmin); the holder is checked inside the transaction.
func ReleaseTicket(app core.App, ticketId, by string, anyHolder bool) (*core.Record, error) {
	return markTicket(app, ticketId, Release, by, "", !anyHolder)
}

// AssignTicket gives a ticket to the account to ("" frees it) in the name
// of by, deciding inside the write's transaction like MarkTicket.
func AssignTicket(app core.App, ticketId, to, by string) (*core.Record, error) {
	return markTicket(app, ticketId, Assign, by, to, false)
}

func markTicket(app core.App, ticketId string, m Mark, by, to string, holderOnly bool) (*core.Record, error) {
	var ticket *core.Record
	err := app.RunInTransaction(func(tx core.App) error {
		t, err := tx.FindRecordById(policy.Tickets, ticketId)
		if err != nil {
			return err
		}
		if holderOnly && t.GetString("takenBy") != "" && t.GetString("takenBy") != by && t.GetString("ticketStatus") == policy.StatusActive {
			return ErrNotHolder
		}
		next, changed, err := Apply(stateOf(t), m, by)
		if m == Assign {
			next, changed, err = ApplyAssign(stateOf(t), to)
		}
		if err != nil {
			return err
		}
		if changed {
			t.Set("ticketStatus", next.Status)
			t.Set("takenBy", next.TakenBy)
			t.Set("isHighPriority", next.HighPriority)
			t.Set("markedBy", by)
			if err := tx.Save(t); err != nil {
				return err
			}
		}
		ticket = t
		return nil
	})
	return ticket, err
}
