package policy_test

import (
	"context"
	"database/sql"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/testapp"
)

// listSQL captures the SELECT the record API runs for a list request.
func listSQL(t *testing.T, app *tests.TestApp, base, kind, path string) []string {
	t.Helper()
	db := app.ConcurrentDB().(*dbx.DB)
	var mu sync.Mutex
	var got []string
	old := db.QueryLogFunc
	db.QueryLogFunc = func(_ context.Context, _ time.Duration, q string, _ *sql.Rows, _ error) {
		mu.Lock()
		defer mu.Unlock()
		// the list's own query sorts by createdAt (the service-level
		// scheduler's, which may run meanwhile, reads nextDueAt)
		if (strings.Contains(q, "FROM `tickets`") || strings.Contains(q, "FROM `messages`")) && strings.Contains(q, "createdAt") {
			got = append(got, q)
		}
	}
	defer func() { db.QueryLogFunc = old }()
	status, body := testapp.Call(t, "GET", base+path, testapp.Token(t, kind), "")
	if status != http.StatusOK {
		t.Fatalf("%s %s: %d %s", kind, path, status, body)
	}
	mu.Lock()
	defer mu.Unlock()
	return got
}

// The record API's lists of tickets and messages, as customers' own code
// calls them through the SDK, read an index in order (no scan of every
// ticket, no sort): EXPLAIN QUERY PLAN on the SQL PocketBase runs.
func TestRecordAPIListsUseTheIndexes(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	base := testapp.Serve(t, app)
	cases := []struct {
		kind, path, index string
	}{
		{testapp.Owner, "/api/collections/tickets/records?sort=-createdAt&skipTotal=1", "idx_tickets_customer"},
		{testapp.Admin, "/api/collections/tickets/records?sort=-createdAt&skipTotal=1", "idx_tickets_status_created"},
		{testapp.Owner, "/api/collections/messages/records?sort=-createdAt&skipTotal=1", "idx_tickets_customer"},
	}
	for _, c := range cases {
		queries := listSQL(t, app, base, c.kind, c.path)
		if len(queries) == 0 {
			t.Fatalf("%s %s: no query seen", c.kind, c.path)
		}
		q := queries[0]
		var plan []struct {
			Detail string `db:"detail"`
		}
		if err := app.DB().NewQuery("EXPLAIN QUERY PLAN " + q).All(&plan); err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, p := range plan {
			lines = append(lines, p.Detail)
		}
		all := strings.Join(lines, "\n")
		if !strings.Contains(all, c.index) || strings.Contains(all, "SCAN tickets") {
			t.Errorf("%s %s:\n%s\nplan:\n%s", c.kind, c.path, q, all)
		}
		if strings.Contains(c.path, "tickets/records") && strings.Contains(all, "FOR ORDER BY") {
			t.Errorf("%s %s sorts instead of reading the index in order:\n%s", c.kind, c.path, all)
		}
		t.Logf("%s %s:\n%s", c.kind, c.path, all)
	}
}
