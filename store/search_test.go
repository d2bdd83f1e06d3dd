package store_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
	"ticketportal/store"
	"ticketportal/testapp"
)

// found runs a query in a scope and returns the ticket ids found, best first.
func found(t testing.TB, app core.App, q string, scope store.SearchScope) []string {
	t.Helper()
	terms, err := store.ParseQuery(q)
	if err != nil {
		t.Fatalf("parse %q: %v", q, err)
	}
	hits, total, err := store.SearchTickets(app, terms, scope, 100, 0)
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	ids := make([]string, len(hits))
	for i, h := range hits {
		ids[i] = h.TicketId
	}
	if int(total) != len(ids) {
		t.Errorf("search %q: total %d for %d hits", q, total, len(ids))
	}
	return ids
}

func addMessage(t testing.TB, app core.App, ticketId, kind, authorId, body string) *core.Record {
	t.Helper()
	m, err := store.AddMessage(app, ticketId, kind, authorId, body)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var all = store.SearchScope{Staff: true}

func TestSearchIndexFollowsWrites(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()

	// the migration filled the index with the fixtures
	if got := found(t, app, "invoice", all); !slices.Equal(got, []string{testapp.ClosedTicketId}) {
		t.Errorf("invoice: %v", got)
	}
	if got := found(t, app, "reinstall", all); !slices.Equal(got, []string{testapp.TakenTicketId}) {
		t.Errorf("an answer's word: %v", got)
	}
	if got := found(t, app, "bob@example.com", all); !slices.Equal(got, []string{testapp.OtherTicketId}) {
		t.Errorf("a customer's email: %v", got)
	}

	// a note is found by staff, never in the public index
	addMessage(t, app, testapp.TicketId, policy.KindNote, testapp.AdminId, "zebracorn suspected")
	if got := found(t, app, "zebracorn", all); !slices.Equal(got, []string{testapp.TicketId}) {
		t.Errorf("note word, staff: %v", got)
	}
	if got := found(t, app, "zebracorn", store.SearchScope{CustomerId: testapp.CustomerId}); len(got) != 0 {
		t.Errorf("note word, customer: %v", got)
	}
	// a reply is found by both
	addMessage(t, app, testapp.TicketId, policy.KindReply, testapp.CustomerId, "still broken quasar")
	if got := found(t, app, "quasar", store.SearchScope{CustomerId: testapp.CustomerId}); !slices.Equal(got, []string{testapp.TicketId}) {
		t.Errorf("reply word, customer: %v", got)
	}

	// a changed user name reaches the customer column
	alice, err := app.FindRecordById(policy.Users, testapp.CustomerId)
	if err != nil {
		t.Fatal(err)
	}
	alice.Set("userName", "alicewonder")
	if err := app.Save(alice); err != nil {
		t.Fatal(err)
	}
	if got := found(t, app, "alicewonder", all); len(got) != 3 {
		t.Errorf("new user name finds %v, want alice's 3 tickets", got)
	}

	// a deleted ticket leaves the index
	ticket, err := app.FindRecordById(policy.Tickets, testapp.TicketId)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Delete(ticket); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"zebracorn", "quasar", "export"} {
		if got := found(t, app, q, all); len(got) != 0 {
			t.Errorf("%s after delete: %v", q, got)
		}
	}
	var docs int
	if err := app.DB().NewQuery("SELECT count(*) FROM ticketSearchDocs").Row(&docs); err != nil {
		t.Fatal(err)
	}
	if docs != 3 {
		t.Errorf("%d documents for 3 tickets", docs)
	}
}

func TestListCannedRepliesQuery(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	col, err := app.FindCollectionByNameOrId(policy.CannedReplies)
	if err != nil {
		t.Fatal(err)
	}
	for i, title := range []string{"b 100% sure", "A 100_ sure", "c 100% sure"} {
		r := core.NewRecord(col)
		r.Set("title", title)
		r.Set("body", "x")
		r.Set("shared", i == 2)
		r.Set("ownerId", testapp.AdminId)
		if err := app.Save(r); err != nil {
			t.Fatal(err)
		}
	}
	// shared first, then by title whatever its case; % and _ are plain text
	got, total, err := store.ListCannedReplies(app, testapp.AdminId, "100%", 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	if total != 2 || len(got) != 2 || got[0].Title != "c 100% sure" || got[1].Title != "b 100% sure" {
		t.Errorf("found %d: %+v", total, got)
	}
	if _, total, _ := store.ListCannedReplies(app, testapp.OtherAdminId, "", 10, 0); total != 1 {
		t.Errorf("another agent sees %d", total)
	}
}

// TestSearchPagesPastTheRankWindow: a broad search is ranked within the
// newest RankWindow matches, then goes on newest first; paging through it
// gives every match once.
func TestSearchPagesPastTheRankWindow(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	n := store.RankWindow + 150
	err := app.RunInTransaction(func(tx core.App) error {
		for i := range n {
			subject := "plain"
			if i == n-10 {
				subject = "alpha alpha" // the best match, among the newest
			}
			_, err := tx.DB().NewQuery("INSERT INTO ticketSearchDocs (ticketId, subject, content) VALUES ({:id}, {:s}, 'alpha and many other words here')").
				Bind(map[string]any{"id": fmt.Sprintf("bulk%011d", i), "s": subject}).Execute()
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	terms, _ := store.ParseQuery("alpha")
	seen := map[string]bool{}
	var first string
	for offset := int64(0); offset < int64(n)+40; offset += 70 {
		hits, total, err := store.SearchTickets(app, terms, all, 70, offset)
		if err != nil {
			t.Fatal(err)
		}
		if total != int64(n) {
			t.Fatalf("total %d, want %d", total, n)
		}
		for _, h := range hits {
			if first == "" {
				first = h.TicketId
			}
			if seen[h.TicketId] {
				t.Errorf("%s twice", h.TicketId)
			}
			seen[h.TicketId] = true
		}
	}
	if len(seen) != n {
		t.Errorf("paged through %d of %d matches", len(seen), n)
	}
	if want := fmt.Sprintf("bulk%011d", n-10); first != want {
		t.Errorf("first %s, want %s", first, want)
	}
}
