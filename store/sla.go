package store

import (
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"ticketportal/policy"
)

// The service levels' queries (the scheduler and the deadline hooks in
// package hooks).

// DueTicketIds lists up to limit tickets whose next deadline is at or
// before now, the earliest first (the index on nextDueAt serves it).
func DueTicketIds(app core.App, now time.Time, limit int64) ([]string, error) {
	var ids []string
	err := app.DB().Select("id").From(policy.Tickets).
		Where(dbx.NewExp("nextDueAt != '' AND nextDueAt <= {:now}", dbx.Params{"now": now.UTC().Format(types.DefaultDateLayout)})).
		OrderBy("nextDueAt ASC").Limit(limit).Column(&ids)
	return ids, err
}

// NextDueAt is the earliest deadline still to come of any ticket ("": none).
func NextDueAt(app core.App) (string, error) {
	var next string
	err := app.DB().Select("nextDueAt").From(policy.Tickets).
		Where(dbx.NewExp("nextDueAt != ''")).OrderBy("nextDueAt ASC").Limit(1).Row(&next)
	return next, err
}

// FirstAnswer is when a ticket was first answered, and by whom (found:
// false when it has no answer).
func FirstAnswer(app core.App, ticketId string) (createdAt, authorId string, found bool) {
	var first struct {
		CreatedAt string `db:"createdAt"`
		AuthorId  string `db:"authorId"`
	}
	err := app.DB().Select("createdAt", "authorId").From(policy.Messages).
		Where(dbx.HashExp{"ticket": ticketId, "kind": policy.KindAnswer}).
		OrderBy("createdAt ASC", "rowid ASC").Limit(1).One(&first)
	return first.CreatedAt, first.AuthorId, err == nil
}

// BreachesRecorded lists which deadlines of a ticket have a breach line in
// its history ("firstResponse", "resolve").
func BreachesRecorded(app core.App, ticketId string) ([]string, error) {
	var which []string
	err := app.DB().Select("json_extract(detail, '$.which') AS which").From(policy.History).
		Where(dbx.HashExp{"ticket": ticketId, "event": policy.EventSlaBreached}).Column(&which)
	return which, err
}
