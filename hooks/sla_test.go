package hooks_test

import (
	"encoding/json"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"

	"ticketportal/hooks"
	"ticketportal/policy"
	"ticketportal/realtime"
	"ticketportal/settings"
	"ticketportal/sla"
	"ticketportal/testapp"
)

// roomListener joins app's admin room as agent2 directly on the broker
// and collects the slaBreached messages it hears.
type roomListener struct {
	mu  sync.Mutex
	got []realtime.SLABreached
}

func listenRoom(t testing.TB, app core.App) *roomListener {
	t.Helper()
	admin, err := app.FindRecordById(policy.Admins, testapp.OtherAdminId)
	if err != nil {
		t.Fatal(err)
	}
	c := subscriptions.NewDefaultClient()
	c.Set(apis.RealtimeClientAuthKey, admin)
	c.Subscribe(realtime.AdminsRoom)
	app.SubscriptionsBroker().Register(c)
	l := &roomListener{}
	go func() {
		for msg := range c.Channel() {
			var m realtime.SLABreached
			if json.Unmarshal(msg.Data, &m) == nil && m.Event == "slaBreached" {
				l.mu.Lock()
				l.got = append(l.got, m)
				l.mu.Unlock()
			}
		}
	}()
	return l
}

// waitFor waits until n messages arrived (or timeout), then listens quiet
// longer for any extra one, and returns them sorted.
func (l *roomListener) waitFor(n int, timeout, quiet time.Duration) []string {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		l.mu.Lock()
		k := len(l.got)
		l.mu.Unlock()
		if k >= n {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(quiet)
	l.mu.Lock()
	defer l.mu.Unlock()
	out := []string{}
	for _, m := range l.got {
		out = append(out, m.TicketId+" "+m.Which)
	}
	l.got = nil
	sort.Strings(out)
	return out
}

func createdAt(t testing.TB, app core.App, id string) time.Time {
	t.Helper()
	r, err := app.FindRecordById(policy.Tickets, id)
	if err != nil {
		t.Fatal(err)
	}
	return r.GetDateTime("createdAt").Time()
}

func breachLines(t testing.TB, app core.App, id string) []string {
	t.Helper()
	var out []string
	err := app.DB().Select("json_extract(detail, '$.which')").From(policy.History).
		Where(dbx.HashExp{"ticket": id, "event": policy.EventSlaBreached}).OrderBy("at").Column(&out)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// openPortal opens the portal's app on dataDir as a serve process would,
// with the clock at now and agent2 listening in the admin room before the
// scheduler starts.
func openPortal(t testing.TB, dataDir string, now time.Time) (core.App, *roomListener) {
	t.Helper()
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: dataDir})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	if err := app.RunAllMigrations(); err != nil {
		t.Fatal(err)
	}
	sla.SetClock(app, func() time.Time { return now })
	l := listenRoom(t, app)
	testapp.Register(app) // the scheduler starts: the app is bootstrapped
	return app, l
}

// A breach is recorded and announced once per deadline: again and again
// waking the scheduler adds nothing; deadlines that passed while the server
// was down are announced on the next start, and a later start announces
// nothing again.
func TestSLABreachAnnouncedOnceAcrossRestarts(t *testing.T) {
	app := testapp.New(t)
	dataDir := app.DataDir()
	defer app.Cleanup()
	high := createdAt(t, app, testapp.OtherTicketId) // high priority: 60 / 480 minutes
	normal := createdAt(t, app, testapp.TicketId)    // normal: 480 / 4320 minutes

	l := listenRoom(t, app)
	sla.SetClock(app, func() time.Time { return high.Add(61 * time.Minute) })
	hooks.WakeSLAScheduler(app)
	if got := l.waitFor(1, 10*time.Second, 500*time.Millisecond); len(got) != 1 || got[0] != testapp.OtherTicketId+" firstResponse" {
		t.Fatalf("first wake announced %v, want the high-priority ticket's first response", got)
	}
	for range 3 {
		hooks.WakeSLAScheduler(app)
	}
	if got := l.waitFor(1, 700*time.Millisecond, 0); len(got) != 0 {
		t.Fatalf("waking again announced %v", got)
	}
	if tk, _ := app.FindRecordById(policy.Tickets, testapp.OtherTicketId); tk.GetString("slaBreached") != "firstResponse" {
		t.Errorf("slaBreached = %q, want firstResponse", tk.GetString("slaBreached"))
	}

	// The server stops; both remaining deadlines pass while it is down.
	if err := app.ClearBootstrap(); err != nil {
		t.Fatal(err)
	}
	later := normal.Add(481 * time.Minute)
	if h := high.Add(481 * time.Minute); h.After(later) {
		later = h
	}
	app2, l2 := openPortal(t, dataDir, later)
	got := l2.waitFor(2, 10*time.Second, 700*time.Millisecond)
	want := []string{testapp.OtherTicketId + " resolve", testapp.TicketId + " firstResponse"}
	sort.Strings(want)
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("after the restart: announced %v, want %v", got, want)
	}
	if err := app2.ClearBootstrap(); err != nil {
		t.Fatal(err)
	}

	// Another restart, still overdue: nothing is announced twice.
	app3, l3 := openPortal(t, dataDir, later.Add(time.Minute))
	defer app3.ClearBootstrap()
	if got := l3.waitFor(1, time.Second, 0); len(got) != 0 {
		t.Fatalf("the second restart announced %v again", got)
	}
	if got := breachLines(t, app3, testapp.OtherTicketId); len(got) != 2 || got[0] != "firstResponse" || got[1] != "resolve" {
		t.Errorf("history of the high-priority ticket: %v", got)
	}
	if got := breachLines(t, app3, testapp.TicketId); len(got) != 1 || got[0] != "firstResponse" {
		t.Errorf("history of the normal ticket: %v", got)
	}
	for id, want := range map[string]string{testapp.OtherTicketId: "resolve", testapp.TicketId: "firstResponse", testapp.TakenTicketId: ""} {
		tk, _ := app3.FindRecordById(policy.Tickets, id)
		if tk.GetString("slaBreached") != want {
			t.Errorf("%s: slaBreached %q, want %q", id, tk.GetString("slaBreached"), want)
		}
	}
}

// Schedulers racing on one overdue ticket record and announce it once.
func TestSLABreachOnceUnderRaces(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	hooks.StopSLAScheduler(app)
	l := listenRoom(t, app)
	sla.SetClock(app, func() time.Time { return createdAt(t, app, testapp.OtherTicketId).Add(30 * time.Hour) })
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := hooks.RecordBreaches(app, testapp.OtherTicketId); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	hooks.StartSLAScheduler(app)
	got := l.waitFor(2, 5*time.Second, 700*time.Millisecond)
	if len(got) != 3 { // OtherTicket: both deadlines; TicketId's first response (8 h) too
		t.Errorf("announced %v, want each deadline once", got)
	}
	if got := breachLines(t, app, testapp.OtherTicketId); len(got) != 2 {
		t.Errorf("history lines %v, want firstResponse and resolve once each", got)
	}
}

// With the real clock, a deadline of 0.05 minutes (3 s) is announced within
// 15 s of passing, and not before it passes.
func TestSLABreachAnnouncedWithinSeconds(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	r, err := app.FindRecordById(settings.Collection, settings.RecordId)
	if err != nil {
		t.Fatal(err)
	}
	s := settings.FromRecord(r)
	s.SLA.Normal = settings.Target{FirstResponseMinutes: 0.05, ResolveMinutes: 60}
	settings.ToRecord(s, r)
	if err := app.Save(r); err != nil {
		t.Fatal(err)
	}
	l := listenRoom(t, app)
	start := time.Now()
	id := newTicket(t, app, testapp.CustomerId)
	tk, _ := app.FindRecordById(policy.Tickets, id)
	due := tk.GetDateTime("firstResponseDueAt").Time()
	if d := due.Sub(tk.GetDateTime("createdAt").Time()); d < 2900*time.Millisecond || d > 3100*time.Millisecond {
		t.Errorf("first response due %s after sending, want 3 s", d)
	}
	got := l.waitFor(1, 15*time.Second, 0)
	took := time.Since(start)
	if len(got) != 1 || got[0] != id+" firstResponse" {
		t.Fatalf("announced %v after %s", got, took)
	}
	if took < 2900*time.Millisecond {
		t.Errorf("announced after %s, before the deadline", took)
	}
	t.Logf("a 3 s deadline was announced %s after sending", took)
}

// A customer cannot subscribe with a filter on a staff-only field (it would
// hear only the tickets that match).
func TestRealtimeRefusesFiltersOnStaffOnlyFields(t *testing.T) {
	app := testapp.New(t)
	url := testapp.Serve(t, app)
	topic := `tickets/*?options={"query":{"filter":"slaBreached='resolve'"}}`
	if got := testapp.ConnectSSE(t, url).Subscribe(testapp.Token(t, testapp.Owner), topic); got != 400 {
		t.Errorf("customer subscribes with a staff-only filter: %d, want 400", got)
	}
	if got := testapp.ConnectSSE(t, url).Subscribe(testapp.Token(t, testapp.Owner), `tickets/*?options={"query":{"filter":"ticketStatus='active'"}}`); got != 204 {
		t.Errorf("customer subscribes with its own filter: %d, want 204", got)
	}
	if got := testapp.ConnectSSE(t, url).Subscribe(testapp.Token(t, testapp.Admin), topic); got != 204 {
		t.Errorf("admin subscribes with the filter: %d, want 204", got)
	}
}
