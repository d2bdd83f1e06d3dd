package store_test

import (
	"fmt"
	"testing"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
	"ticketportal/store"
	"ticketportal/testapp"
)

// BenchmarkIntegrityWrites measures the writes the integrity triggers check
// (a ticket, an answer, a customer sign-up row), saved through PocketBase's
// app.Save, with the triggers and with them dropped (PocketBase's own
// writes), in the same run. Compare ns/op of the two sub-benchmarks.
func BenchmarkIntegrityWrites(b *testing.B) {
	for _, withTriggers := range []bool{false, true} {
		name := "pocketbase"
		if withTriggers {
			name = "triggers"
		}
		b.Run(name, func(b *testing.B) {
			app := testapp.New(b)
			defer app.Cleanup()
			if !withTriggers {
				for _, tr := range store.IntegrityTriggers {
					if _, err := app.DB().NewQuery("DROP TRIGGER " + tr).Execute(); err != nil {
						b.Fatal(err)
					}
				}
			}
			tickets, _ := app.FindCollectionByNameOrId(policy.Tickets)
			answers, _ := app.FindCollectionByNameOrId(policy.Messages)
			users, _ := app.FindCollectionByNameOrId(policy.Users)
			b.ResetTimer()
			for i := range b.N {
				t := core.NewRecord(tickets)
				t.Set("customerId", testapp.CustomerId)
				t.Set("ticketContent", "Benchmark ticket.")
				if err := app.Save(t); err != nil {
					b.Fatal(err)
				}
				a := core.NewRecord(answers)
				a.Set("ticket", t.Id)
				a.Set("kind", "answer")
				a.Set("body", "Benchmark answer.")
				a.Set("authorId", testapp.AdminId)
				if err := app.Save(a); err != nil {
					b.Fatal(err)
				}
				u := core.NewRecord(users)
				u.Set("userName", fmt.Sprintf("bench%d", i))
				u.Set("userFirstName", "B")
				u.Set("userLastName", "B")
				u.Set("mobileNumber", "+1 555 0100")
				u.SetEmail(fmt.Sprintf("bench%d@example.com", i))
				if err := app.SaveNoValidate(u); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
