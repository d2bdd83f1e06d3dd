package store_test

import (
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/policy"
	"ticketportal/store"
	"ticketportal/testapp"
)

// assertCounts compares every counter with a COUNT over the tickets table.
func assertCounts(t *testing.T, app *tests.TestApp, when string) {
	t.Helper()
	keys := map[string]string{
		store.CountKeyStatus(policy.StatusActive):       "ticketStatus = 'active'",
		store.CountKeyStatus(policy.StatusClosed):       "ticketStatus = 'closed'",
		store.CountKeyCustomer(testapp.CustomerId):      "customerId = '" + testapp.CustomerId + "'",
		store.CountKeyCustomer(testapp.OtherCustomerId): "customerId = '" + testapp.OtherCustomerId + "'",
	}
	for key, where := range keys {
		var want int
		if err := app.DB().NewQuery("SELECT COUNT(*) FROM tickets WHERE " + where).Row(&want); err != nil {
			t.Fatal(err)
		}
		got, err := store.CountTickets(app, key)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("%s: counter %s = %d, COUNT = %d", when, key, got, want)
		}
	}
}

func TestTicketCountsFollowEveryChange(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	assertCounts(t, app, "fixtures")

	col, _ := app.FindCollectionByNameOrId(policy.Tickets)
	for range 3 {
		r := core.NewRecord(col)
		r.Set("customerId", testapp.OtherCustomerId)
		r.Set("ticketContent", "more")
		if err := app.Save(r); err != nil {
			t.Fatal(err)
		}
	}
	assertCounts(t, app, "after creates")

	tk, _ := app.FindRecordById(policy.Tickets, testapp.TicketId)
	tk.Set("ticketStatus", policy.StatusClosed)
	if err := app.Save(tk); err != nil {
		t.Fatal(err)
	}
	assertCounts(t, app, "after a close")

	// a save that changes no counted field leaves the counters alone
	tk.Set("isHighPriority", true)
	if err := app.Save(tk); err != nil {
		t.Fatal(err)
	}
	assertCounts(t, app, "after a priority change")

	if err := app.Delete(tk); err != nil {
		t.Fatal(err)
	}
	assertCounts(t, app, "after a delete")

	bob, _ := app.FindRecordById(policy.Users, testapp.OtherCustomerId)
	if err := app.Delete(bob); err != nil {
		t.Fatal(err)
	}
	assertCounts(t, app, "after a customer's deletion cascaded")

	// a failed transaction leaves no trace in the counters
	_ = app.RunInTransaction(func(tx core.App) error {
		r := core.NewRecord(col)
		r.Set("customerId", testapp.CustomerId)
		r.Set("ticketContent", "rolled back")
		if err := tx.Save(r); err != nil {
			return err
		}
		return errRollback
	})
	assertCounts(t, app, "after a rolled-back create")
}

type rollback struct{}

func (rollback) Error() string { return "rollback" }

var errRollback = rollback{}

func TestTicketCountsSurviveSchemaChanges(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()

	col, _ := app.FindCollectionByNameOrId(policy.Tickets)
	col.Fields.Add(&core.TextField{Name: "channel"})
	if err := app.Save(col); err != nil {
		t.Fatal(err)
	}
	col, _ = app.FindCollectionByNameOrId(policy.Tickets)
	col.Fields.RemoveByName("channel")
	if err := app.Save(col); err != nil {
		t.Fatal(err)
	}

	r := core.NewRecord(col)
	r.Set("customerId", testapp.CustomerId)
	r.Set("ticketContent", "after the schema change")
	if err := app.Save(r); err != nil {
		t.Fatal(err)
	}
	assertCounts(t, app, "after a schema change and a create")
}
