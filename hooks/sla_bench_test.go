package hooks_test

import (
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/tools/types"

	"ticketportal/hooks"
	"ticketportal/testapp"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSchedulerIdle: the CPU the breach scheduler costs per minute
// with PORTAL_BENCH_ACTIVE active tickets (default 100,000) of which none is
// due, against a poll every 15 s that looks for due deadlines among the
// active tickets (PocketBase's own way: a periodic job scanning the table;
// its cron ticks at most once a minute, which would miss the 15 s bound).
// Each side runs PORTAL_BENCH_IDLE_SECONDS (default 30) in this process.
//
//	go test ./hooks -run '^$' -bench SchedulerIdle -benchtime 1x
func BenchmarkSchedulerIdle(b *testing.B) {
	n, secs := 100_000, 30
	if v, err := strconv.Atoi(os.Getenv("PORTAL_BENCH_ACTIVE")); err == nil && v > 0 {
		n = v
	}
	if v, err := strconv.Atoi(os.Getenv("PORTAL_BENCH_IDLE_SECONDS")); err == nil && v > 0 {
		secs = v
	}
	app := testapp.New(b)
	defer app.Cleanup()
	now := types.NowDateTime()
	first, resolve := now.Add(8*time.Hour).String(), now.Add(72*time.Hour).String()
	_, err := app.DB().NewQuery(`WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {:n})
		INSERT INTO tickets (id, customerId, customerUserName, ticketContent, ticketStatus, createdAt, updatedAt, tags, ticketSubject,
			firstResponseDueAt, resolveDueAt, nextDueAt, dueAt)
		SELECT printf('idle%011d', i), 'customer0000001', 'alice', 'x', 'active', {:now}, {:now}, '[]', 'x', {:f}, {:r}, {:f}, {:f} FROM s`).
		Bind(dbx.Params{"n": n - 1, "now": now.String(), "f": first, "r": resolve}).Execute()
	if err != nil {
		b.Fatal(err)
	}
	if _, err := app.DB().NewQuery("ANALYZE").Execute(); err != nil {
		b.Fatal(err)
	}
	window := time.Duration(secs) * time.Second

	measure := func(run func(stop chan struct{})) time.Duration {
		stop := make(chan struct{})
		done := make(chan int)
		go func() { run(stop); close(done) }()
		time.Sleep(500 * time.Millisecond) // let it settle
		c0 := cpuTime()
		time.Sleep(window)
		c1 := cpuTime()
		close(stop)
		<-done
		return time.Duration(float64(c1-c0) * float64(time.Minute) / float64(window)) // (no int64 overflow)
	}

	b.ResetTimer()
	hooks.WakeSLAScheduler(app) // the scheduler reads the earliest deadline once, then sleeps
	sched := measure(func(stop chan struct{}) { <-stop })
	hooks.StopSLAScheduler(app)

	scans := 0
	poll := measure(func(stop chan struct{}) {
		tick := time.NewTicker(15 * time.Second)
		defer tick.Stop()
		scan := func() {
			var ids []string
			_ = app.DB().NewQuery(`SELECT id FROM tickets WHERE ticketStatus = 'active'
				AND ((firstRespondedAt = '' AND firstResponseDueAt <= {:now}) OR resolveDueAt <= {:now})`).
				Bind(dbx.Params{"now": types.NowDateTime().String()}).Column(&ids)
			scans++
		}
		scan()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				scan()
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(sched.Microseconds())/1000, "scheduler-cpu-ms/min")
	b.ReportMetric(float64(poll.Microseconds())/1000, "poll15s-cpu-ms/min")
	b.Logf("%d active tickets, %s per side: scheduler %s CPU/min, 15 s poll %s CPU/min (%d scans)", n, window, sched, poll, scans)
}
