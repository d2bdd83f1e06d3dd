package sqlcache_test

import (
	"context"
	"syscall"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"modernc.org/sqlite"

	"ticketportal/durability"
	"ticketportal/sqlcache"
	"ticketportal/testapp"
)

// BenchmarkTicketWrites saves a ticket, an answer to it and a customer
// sign-up through PocketBase's app.Save in a real test app (every hook,
// trigger and the full-text index), with the databases opened through the
// statement cache (durability.Connect) and as PocketBase opens them
// (durability.ConnectUncached: the same DSN, modernc's driver directly).
// Compare ns/op (wall time, including the fsync of each commit that
// synchronous=FULL asks for) and cpu-ns/op (the process's CPU time, user
// and system, per op) of the two sub-benchmarks.
func BenchmarkTicketWrites(b *testing.B) {
	for _, bc := range []struct {
		name    string
		connect core.DBConnectFunc
	}{{"uncached", durability.ConnectUncached}, {"cached", durability.Connect}} {
		b.Run(bc.name, func(b *testing.B) {
			app := testapp.NewWithConnect(b, bc.connect)
			defer app.Cleanup()
			prep0, _ := sqlcache.Stats()
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := range b.N {
				testapp.SaveTicketAnswerAndCustomer(b, app, i)
			}
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
			prep1, _ := sqlcache.Stats()
			b.ReportMetric(float64(prep1-prep0)/float64(b.N), "prepares/op")
			// SQLite's own count of the memory held by the prepared
			// statements of the connection that wrote (PocketBase's one
			// non-concurrent connection), and how many the cache holds.
			conn, err := app.NonconcurrentDB().(*dbx.DB).DB().Conn(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			conn.Raw(func(dc any) error {
				if s, ok := dc.(sqlite.DBStatus); ok {
					used, _, _ := s.Status(sqlite.DBStatusStmtUsed, false)
					b.ReportMetric(float64(used)/1024, "stmt-KiB")
				}
				if c, ok := dc.(*sqlcache.Conn); ok {
					b.ReportMetric(float64(c.Len()), "cached-stmts")
				}
				return nil
			})
		})
	}
}

// cpuTime is the process's CPU time (user + system) in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
