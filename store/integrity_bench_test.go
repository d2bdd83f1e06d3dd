package store_test

import (
	"testing"

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
			b.ResetTimer()
			for i := range b.N {
				testapp.SaveTicketAnswerAndCustomer(b, app, i)
			}
		})
	}
}
