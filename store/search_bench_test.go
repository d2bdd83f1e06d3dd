package store_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
	"ticketportal/store"
	"ticketportal/testapp"
)

// benchTickets seeds n tickets by direct SQL (the index triggers fire):
// made-up words, "order" in 4 of 10, "zanzibar" in 1 of 2,000.
func benchTickets(b *testing.B, app core.App, n int) {
	b.Helper()
	rng := rand.New(rand.NewPCG(3, 4))
	word := func() string {
		syll := []string{"ka", "lo", "mi", "ne", "su", "ta", "po", "ri", "de", "gu"}
		w := ""
		for range 2 + rng.IntN(3) {
			w += syll[rng.IntN(len(syll))]
		}
		return w
	}
	err := app.RunInTransaction(func(tx core.App) error {
		for i := range n {
			ws := make([]string, 30)
			for j := range ws {
				ws[j] = word()
			}
			if rng.IntN(10) < 4 {
				ws[3] = "order"
			}
			if rng.IntN(2000) == 0 {
				ws[7] = "zanzibar"
			}
			text := strings.Join(ws, " ")
			_, err := tx.DB().Insert(policy.Tickets, dbx.Params{
				"id": fmt.Sprintf("bench%010d", i), "customerId": testapp.CustomerId, "ticketContent": text,
				"ticketSubject": strings.Join(ws[:5], " "), "ticketStatus": policy.StatusClosed,
			}).Execute()
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSearch compares a ranked search of the index with what
// PocketBase's filter ticketContent~'word' (skipTotal) runs: a LIKE scan
// that stops at the first page.
func BenchmarkSearch(b *testing.B) {
	app := testapp.New(b)
	defer app.Cleanup()
	benchTickets(b, app, 20000)
	for _, word := range []string{"zanzibar", "order"} {
		terms, err := store.ParseQuery(word)
		if err != nil {
			b.Fatal(err)
		}
		b.Run("index/"+word, func(b *testing.B) {
			for b.Loop() {
				if _, _, err := store.SearchTickets(app, terms, store.SearchScope{Staff: true}, 10, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("like/"+word, func(b *testing.B) {
			for b.Loop() {
				var ids []string
				err := app.DB().NewQuery("SELECT id FROM tickets WHERE ticketContent LIKE {:w} LIMIT 10").
					Bind(dbx.Params{"w": "%" + word + "%"}).Column(&ids)
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTicketInsert is a ticket saved with its hooks (as /sendTicket
// does), with the index's trigger and without it.
func BenchmarkTicketInsert(b *testing.B) {
	for _, withIndex := range []bool{true, false} {
		name := map[bool]string{true: "with-index", false: "without-index"}[withIndex]
		b.Run(name, func(b *testing.B) {
			app := testapp.New(b)
			defer app.Cleanup()
			if !withIndex {
				if _, err := app.DB().NewQuery("DROP TRIGGER tickets_search_ai").Execute(); err != nil {
					b.Fatal(err)
				}
			}
			col, err := app.FindCollectionByNameOrId(policy.Tickets)
			if err != nil {
				b.Fatal(err)
			}
			i := 0
			for b.Loop() {
				i++
				r := core.NewRecord(col)
				r.Set("customerId", testapp.CustomerId)
				r.Set("ticketContent", fmt.Sprintf("bench ticket %d: my order with the credit card has not arrived, please look into it", i))
				if err := app.Save(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
