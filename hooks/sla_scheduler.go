package hooks

import (
	"sync"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"ticketportal/policy"
	"ticketportal/realtime"
	"ticketportal/sla"
	"ticketportal/store"
)

// The breach scheduler: one goroutine that sleeps until the earliest
// nextDueAt of all tickets (one read of the idx_tickets_nextDueAt index),
// records the breaches then due and sleeps again. An idle ticket costs
// nothing: it is one index entry that is never read until it is the
// earliest. A write that moves a ticket's nextDueAt wakes it.
//
// Whether a deadline is recorded is decided inside the ticket's write
// transaction (the history line and slaBreached are written there; the
// next check reads the history): PocketBase runs write transactions one at
// a time, so two schedulers, or a scheduler racing a restart, record and
// announce a breach once. The announcement follows the commit. On start the
// scheduler looks at once, so deadlines that passed while the server was
// down are recorded and announced then.

// schedulerMaxSleep bounds a sleep, so that a changed system clock is seen.
const schedulerMaxSleep = 5 * time.Minute

// schedulerBatch is how many due tickets one pass reads at a time.
const schedulerBatch = 200

type slaScheduler struct {
	app  core.App
	wake chan struct{}

	mu   sync.Mutex
	stop chan struct{}
	done chan struct{}

	// passing is held through each pass (SettleSLAScheduler waits on it).
	passing sync.Mutex
}

const schedulerKey = "ticketportal.slaScheduler"

func schedulerOf(app core.App) *slaScheduler {
	return app.Store().GetOrSet(schedulerKey, func() any {
		return &slaScheduler{app: app, wake: make(chan struct{}, 1)}
	}).(*slaScheduler)
}

// bindScheduler runs the scheduler while the app serves (and at once in an
// app already bootstrapped, a test app), and stops it before the database
// closes.
func bindScheduler(app core.App) {
	s := schedulerOf(app)
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		s.Start()
		return se.Next()
	})
	app.OnBootstrapClear().BindFunc(func(e *core.BootstrapEvent) error {
		s.Stop()
		return e.Next()
	})
	app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		s.Stop()
		return e.Next()
	})
	if app.IsBootstrapped() {
		s.Start()
	}
}

// Start runs the scheduler (no-op when running).
func (s *slaScheduler) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop != nil {
		return
	}
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	go s.run(s.stop, s.done)
}

// Stop ends the scheduler and waits for it.
func (s *slaScheduler) Stop() {
	s.mu.Lock()
	stop, done := s.stop, s.done
	s.stop, s.done = nil, nil
	s.mu.Unlock()
	if stop != nil {
		close(stop)
		<-done
	}
}

// Wake makes the scheduler look again now.
func (s *slaScheduler) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// WakeSLAScheduler makes app's breach scheduler look now (tests that move
// the clock).
func WakeSLAScheduler(app core.App) { schedulerOf(app).Wake() }

// StopSLAScheduler stops app's breach scheduler and StartSLAScheduler
// starts it again (tests that play a restart).
func StopSLAScheduler(app core.App)  { schedulerOf(app).Stop() }
func StartSLAScheduler(app core.App) { schedulerOf(app).Start() }

// SettleSLAScheduler waits for a pass of app's breach scheduler under way
// to end (test apps, before they read what the hooks recorded).
func SettleSLAScheduler(app core.App) {
	s := schedulerOf(app)
	s.passing.Lock()
	s.passing.Unlock()
}

func (s *slaScheduler) run(stop, done chan struct{}) {
	defer close(done)
	for {
		s.passing.Lock()
		wait := s.pass(stop)
		s.passing.Unlock()
		timer := time.NewTimer(wait)
		select {
		case <-stop:
			timer.Stop()
			return
		case <-s.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// pass records every breach due now and returns how long to sleep.
func (s *slaScheduler) pass(stop chan struct{}) (wait time.Duration) {
	defer func() {
		if r := recover(); r != nil {
			s.app.Logger().Error("service-level scheduler failed", "error", r)
			wait = time.Second
		}
	}()
	if !s.app.IsBootstrapped() || !s.app.HasTable(policy.Tickets) {
		return time.Second // a test app that starts before its migrations
	}
	now := sla.Now(s.app)
	for {
		ids, err := store.DueTicketIds(s.app, now, schedulerBatch)
		if err != nil {
			s.app.Logger().Error("service-level scheduler could not read due tickets", "error", err)
			return time.Second
		}
		for _, id := range ids {
			select {
			case <-stop:
				return 0
			default:
			}
			if err := RecordBreaches(s.app, id); err != nil {
				s.app.Logger().Error("service-level breach not recorded", "ticket", id, "error", err)
			}
		}
		if len(ids) < schedulerBatch {
			break
		}
	}
	next, err := store.NextDueAt(s.app)
	if err != nil || next == "" {
		return schedulerMaxSleep
	}
	due, err := types.ParseDateTime(next)
	if err != nil {
		return schedulerMaxSleep
	}
	wait = due.Time().Sub(sla.Now(s.app))
	switch {
	case wait < 10*time.Millisecond:
		return 10 * time.Millisecond
	case wait > schedulerMaxSleep:
		return schedulerMaxSleep
	}
	return wait
}

// RecordBreaches records, in one transaction, every deadline of the ticket
// missed by now and not recorded yet (history line slaBreached, the
// ticket's slaBreached), then announces each in the admin room.
func RecordBreaches(app core.App, ticketId string) error {
	var missed []sla.Which
	err := app.RunInTransaction(func(tx core.App) error {
		missed = nil
		t, err := tx.FindRecordById(policy.Tickets, ticketId)
		if err != nil {
			return nil // deleted meanwhile
		}
		clock, err := clockOf(tx, t)
		if err != nil {
			return err
		}
		missed = clock.Missed(sla.Now(tx))
		for _, w := range missed {
			d := detail{"which": string(w), "dueAt": clock.DueOf(w).UTC().Format(types.DefaultDateLayout)}
			if err := appendHistory(tx, t.Id, policy.EventSlaBreached, "", d); err != nil {
				return err
			}
		}
		if len(missed) > 0 {
			t.Set("slaBreached", string(clock.LastMissed(sla.Which(t.GetString("slaBreached")), missed)))
		}
		// Saving recomputes nextDueAt (a stale one moves on too).
		return tx.Save(t)
	})
	if err != nil {
		return err
	}
	for _, w := range missed {
		realtime.AnnounceSLABreach(app, ticketId, string(w))
	}
	return nil
}
