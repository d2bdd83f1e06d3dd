package routes

import (
	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/store"
)

// activeQueueOrder applies the active list's ?sort: none keeps Part 1's
// order; "due" puts the soonest service-level deadline with work undone
// first (missed ones, the most overdue, at the top), read from the partial
// index idx_tickets_active_due (its WHERE is written out literally so that
// SQLite uses it), with the queue's filters f. Any other value is a 400.
func activeQueueOrder(e *core.RequestEvent, q *listQuery, f store.QueueFilter) error {
	switch e.Request.URL.Query().Get("sort") {
	case "":
		return nil
	case "due":
		q.where = filtered(dbx.NewExp("ticketStatus = 'active'"), f)
		q.orderBy = []string{"dueAt ASC", "rowid ASC"}
		return nil
	}
	return e.BadRequestError("The sort parameter must be due.", validation.Errors{
		"sort": validation.NewError("validation_invalid_sort", "Must be due."),
	})
}
