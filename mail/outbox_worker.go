package mail

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/textproto"
	"sync"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"ticketportal/policy"
)

// Outbox is one app's worker.
type Outbox struct {
	app  core.App
	wake chan struct{}

	mu   sync.Mutex
	opts Options
	stop chan struct{} // nil when not running
	done chan struct{}

	// direct holds the messages that go straight to the mailer: the
	// worker's own sends and the dashboard's test mails.
	direct sync.Map // *mailer.Message → struct{}

	// passing is held by the worker through each pass (Settle waits on it).
	passing sync.Mutex
}

func outboxOf(app core.App) *Outbox {
	return app.Store().GetOrSet(outboxStoreKey, func() any {
		return &Outbox{app: app, wake: make(chan struct{}, 1), opts: DefaultOptions}
	}).(*Outbox)
}

func wake(app core.App) {
	if o, ok := app.Store().Get(outboxStoreKey).(*Outbox); ok {
		o.wakeUp()
	}
}

func (o *Outbox) wakeUp() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

func (o *Outbox) options() Options {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.opts
}

// Start runs the worker unless it runs already.
func (o *Outbox) Start() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.stop != nil {
		return
	}
	o.stop, o.done = make(chan struct{}), make(chan struct{})
	go o.run(o.stop, o.done)
}

// Stop ends the worker, giving a send under way a few seconds to finish.
func (o *Outbox) Stop() {
	o.mu.Lock()
	stop, done := o.stop, o.done
	o.stop, o.done = nil, nil
	o.mu.Unlock()
	if stop == nil {
		return
	}
	close(stop)
	select {
	case <-done:
	case <-time.After(stopGrace + 5*time.Second):
		o.app.Logger().Warn("the mail outbox worker did not stop in time")
	}
}

func (o *Outbox) run(stop, done chan struct{}) {
	defer close(done)
	recovered := false
	for {
		// what an earlier run left "sending" is settled first, once the
		// database is there (a test app may start before its migrations)
		o.passing.Lock()
		if !recovered && o.ready() {
			o.recoverInterrupted()
			recovered = true
		}
		wait := o.safeProcessDue(stop)
		o.passing.Unlock()
		timer := time.NewTimer(wait)
		select {
		case <-stop:
			timer.Stop()
			return
		case <-o.wake:
			timer.Stop()
		case <-timer.C:
		}
	}
}

func (o *Outbox) safeProcessDue(stop chan struct{}) (wait time.Duration) {
	defer func() {
		if r := recover(); r != nil {
			wait = o.options().Poll
			o.app.Logger().Error("the mail outbox worker panicked", "panic", fmt.Sprint(r))
		}
	}()
	return o.processDue(stop)
}

// recoverInterrupted marks the mail a dead process was sending as
// interrupted, and makes every waiting mail due now.
func (o *Outbox) recoverInterrupted() {
	if !o.ready() {
		return
	}
	now := types.NowDateTime().String()
	_, err := o.app.NonconcurrentDB().NewQuery(
		"UPDATE {{" + OutboxCollection + "}} SET [[status]] = {:interrupted}, [[lastError]] = {:why}, [[updatedAt]] = {:now} WHERE [[status]] = {:sending}",
	).Bind(dbx.Params{
		"interrupted": StatusInterrupted,
		"sending":     StatusSending,
		"why":         "The server stopped while this mail was being sent; it may or may not have arrived. Set the status to pending to send it again.",
		"now":         now,
	}).Execute()
	if err != nil {
		o.app.Logger().Error("mail outbox: marking interrupted mail failed", "error", err)
	}
	o.retryAllNow()
}

// retryAllNow makes every waiting mail due now and wakes the worker.
func (o *Outbox) retryAllNow() {
	if !o.ready() {
		return
	}
	_, err := o.app.NonconcurrentDB().NewQuery(
		"UPDATE {{" + OutboxCollection + "}} SET [[nextAttemptAt]] = {:now} WHERE [[status]] = {:pending} AND [[nextAttemptAt]] > {:now}",
	).Bind(dbx.Params{"now": types.NowDateTime().String(), "pending": StatusPending}).Execute()
	if err != nil {
		o.app.Logger().Error("mail outbox: rescheduling failed", "error", err)
	}
	o.wakeUp()
}

// ready says whether the app's database is open and migrated.
func (o *Outbox) ready() bool {
	return o.app.IsBootstrapped() && o.app.HasTable(OutboxCollection)
}

// processDue sends the mail that is due, one by one, and returns how long
// to wait before the next one is due. A nil stop never interrupts it.
func (o *Outbox) processDue(stop chan struct{}) time.Duration {
	opts := o.options()
	tried := map[string]bool{} // each mail once per call, however short the backoff
	for {
		if !o.ready() {
			return opts.Poll
		}
		var ids []string
		err := o.app.ConcurrentDB().Select("id").From(OutboxCollection).
			Where(dbx.HashExp{"status": StatusPending}).
			AndWhere(dbx.NewExp("[[nextAttemptAt]] <= {:now}", dbx.Params{"now": types.NowDateTime().String()})).
			OrderBy("nextAttemptAt", "createdAt").
			Limit(50).
			Column(&ids)
		if err != nil {
			o.app.Logger().Error("mail outbox: reading due mail failed", "error", err)
			return opts.Poll
		}
		var batch []string
		for _, id := range ids {
			if !tried[id] {
				tried[id] = true
				batch = append(batch, id)
			}
		}
		if len(batch) == 0 {
			break
		}
		o.sendAll(batch, stop, opts)
		if stopped(stop) {
			return opts.Poll
		}
	}
	// sleep until the next retry is due, or Poll at most
	var next string
	_ = o.app.ConcurrentDB().NewQuery(
		"SELECT COALESCE(MIN([[nextAttemptAt]]), '') FROM {{" + OutboxCollection + "}} WHERE [[status]] = {:pending}",
	).Bind(dbx.Params{"pending": StatusPending}).Row(&next)
	if t, err := types.ParseDateTime(next); err == nil && !t.IsZero() {
		if d := time.Until(t.Time()); d < opts.Poll {
			return max(d, 10*time.Millisecond)
		}
	}
	return opts.Poll
}

// sendAll sends the batch with up to opts.Senders SMTP conversations at
// once.
func (o *Outbox) sendAll(ids []string, stop chan struct{}, opts Options) {
	ids = o.claim(ids)
	n := max(1, min(opts.Senders, len(ids)))
	next := make(chan string)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				o.sendOne(id, stop, opts)
			}
		}()
	}
	for _, id := range ids {
		if stopped(stop) {
			break
		}
		next <- id
	}
	close(next)
	wg.Wait()
}

func stopped(stop chan struct{}) bool {
	if stop == nil {
		return false
	}
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// outboxRow is what the worker reads of one mail.
type outboxRow struct {
	Id        string `db:"id"`
	Attempts  int    `db:"attempts"`
	Message   string `db:"message"`
	CreatedAt string `db:"createdAt"`
	Ticket    string `db:"ticket"`
	Subject   string `db:"subject"`
	To        string `db:"to"`
}

// claim marks the batch's pending mails "sending" in one transaction (so
// that no other worker or Flush sends them too) and returns the ids it got.
func (o *Outbox) claim(ids []string) []string {
	var got []string
	err := o.app.RunInTransaction(func(tx core.App) error {
		got = got[:0]
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		if err := tx.DB().Select("id").From(OutboxCollection).
			Where(dbx.In("id", args...)).AndWhere(dbx.HashExp{"status": StatusPending}).Column(&got); err != nil {
			return err
		}
		if len(got) == 0 {
			return nil
		}
		claimed := make([]any, len(got))
		for i, id := range got {
			claimed[i] = id
		}
		_, err := tx.DB().Update(OutboxCollection, dbx.Params{
			"status":    StatusSending,
			"attempts":  dbx.NewExp("[[attempts]] + 1"),
			"updatedAt": types.NowDateTime().String(),
		}, dbx.In("id", claimed...)).Execute()
		return err
	})
	if err != nil {
		o.app.Logger().Error("mail outbox: claiming mail failed", "error", err)
		return nil
	}
	return got
}

// sendOne sends one claimed mail and records the outcome.
func (o *Outbox) sendOne(id string, stop chan struct{}, opts Options) {
	db := o.app.NonconcurrentDB()
	var row outboxRow
	err := db.Select("id", "attempts", "message", "createdAt", "ticket", "subject", "to").From(OutboxCollection).
		Where(dbx.HashExp{"id": id}).One(&row)
	if err != nil {
		o.app.Logger().Error("mail outbox: reading a mail failed", "mail", id, "error", err)
		return
	}
	msg, err := decodeMessage([]byte(row.Message))
	if err != nil {
		o.finish(id, StatusFailed, "The stored message is not valid: "+err.Error(), "")
		return
	}

	result := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				result <- fmt.Errorf("the mailer panicked: %v", r)
			}
		}()
		o.direct.Store(msg, struct{}{})
		defer o.direct.Delete(msg)
		result <- o.app.NewMailClient().Send(msg)
	}()
	var sendErr error
	timeout := time.NewTimer(opts.SendTimeout)
	defer timeout.Stop()
	select {
	case sendErr = <-result:
	case <-timeout.C:
		o.finish(id, StatusInterrupted, fmt.Sprintf("The SMTP server did not finish within %s; the mail may or may not have arrived. Set the status to pending to send it again.", opts.SendTimeout), "")
		return
	case <-stopOrNever(stop):
		select {
		case sendErr = <-result:
		case <-time.After(stopGrace):
			return // left "sending": the next start marks it interrupted
		}
	}

	if sendErr == nil {
		o.finish(id, StatusSent, "", types.NowDateTime().String())
		o.history(row, policy.EventMailSent, "")
		if row.Attempts > 1 {
			o.retryAllNow() // the server is back: the others need not wait
		}
		return
	}
	o.app.Logger().Warn("mail delivery failed", "mail", id, "attempt", row.Attempts, "error", sendErr)
	if Permanent(sendErr) {
		o.finish(id, StatusFailed, "Refused by the SMTP server: "+sendErr.Error(), "")
		o.history(row, policy.EventMailFailed, sendErr.Error())
		return
	}
	created, _ := types.ParseDateTime(row.CreatedAt)
	if !created.IsZero() && time.Since(created.Time()) > opts.GiveUpAfter {
		o.finish(id, StatusFailed, "Given up: "+sendErr.Error(), "")
		o.history(row, policy.EventMailFailed, "given up: "+sendErr.Error())
		return
	}
	o.retryLater(id, sendErr, Backoff(opts, row.Attempts))
}

// Permanent says whether a send error is a permanent rejection (an SMTP
// 5xx reply): retrying cannot help.
func Permanent(err error) bool {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code >= 500 && te.Code < 600
	}
	return false
}

// history writes a mailSent/mailFailed line on the mail's ticket, if any.
func (o *Outbox) history(row outboxRow, event, why string) {
	if row.Ticket == "" {
		return
	}
	d := map[string]any{"mailId": row.Id, "subject": row.Subject, "to": row.To}
	if why != "" {
		d["error"] = cut(why, 500)
	}
	if err := addHistorySQL(o.app, row.Ticket, event, d); err != nil {
		o.app.Logger().Warn("mail outbox: writing the ticket's history failed", "mail", row.Id, "ticket", row.Ticket, "error", err)
	}
}

// addHistorySQL writes one system line in plain SQL: the worker's lines
// come after the write that queued the mail and fire no record hooks.
func addHistorySQL(app core.App, ticketId, event string, detail map[string]any) error {
	raw, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	_, err = app.NonconcurrentDB().Insert(policy.History, dbx.Params{
		"id": core.GenerateDefaultRandomId(), "ticket": ticketId, "event": event, "by": "", "byName": "",
		"detail": string(raw), "at": types.NowDateTime().String(),
	}).Execute()
	return err
}

// AddHistory writes one system line (no author) in a ticket's history.
func AddHistory(app core.App, ticketId, event string, detail map[string]any) error {
	col, err := app.FindCachedCollectionByNameOrId(policy.History)
	if err != nil {
		return err
	}
	h := core.NewRecord(col)
	h.Set("ticket", ticketId)
	h.Set("event", event)
	h.Set("detail", detail)
	return app.Save(h)
}

func stopOrNever(stop chan struct{}) <-chan struct{} {
	if stop == nil {
		return nil
	}
	return stop
}

// Backoff is the wait after the given (1-based) failed attempt.
func Backoff(opts Options, attempt int) time.Duration {
	d := opts.MinBackoff
	for i := 1; i < attempt && d < opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, opts.MaxBackoff)
}

func (o *Outbox) finish(id, status, lastError, sentAt string) {
	_, err := o.app.NonconcurrentDB().Update(OutboxCollection, dbx.Params{
		"status":    status,
		"lastError": cut(lastError, 2000),
		"sentAt":    sentAt,
		"updatedAt": types.NowDateTime().String(),
	}, dbx.HashExp{"id": id}).Execute()
	if err != nil {
		o.app.Logger().Error("mail outbox: recording a result failed", "mail", id, "status", status, "error", err)
	}
}

func (o *Outbox) retryLater(id string, sendErr error, wait time.Duration) {
	now := time.Now().UTC()
	next, _ := types.ParseDateTime(now.Add(wait))
	_, err := o.app.NonconcurrentDB().Update(OutboxCollection, dbx.Params{
		"status":        StatusPending,
		"lastError":     cut(sendErr.Error(), 2000),
		"nextAttemptAt": next.String(),
		"updatedAt":     types.NowDateTime().String(),
	}, dbx.HashExp{"id": id}).Execute()
	if err != nil {
		o.app.Logger().Error("mail outbox: rescheduling a mail failed", "mail", id, "error", err)
	}
}

// cleanup deletes sent mail older than KeepSent (run daily by the cron).
func (o *Outbox) cleanup() {
	if !o.ready() {
		return
	}
	before, _ := types.ParseDateTime(time.Now().Add(-o.options().KeepSent))
	_, err := o.app.NonconcurrentDB().Delete(OutboxCollection, dbx.And(
		dbx.HashExp{"status": StatusSent},
		dbx.NewExp("[[createdAt]] < {:before}", dbx.Params{"before": before.String()}),
	)).Execute()
	if err != nil {
		o.app.Logger().Error("mail outbox: cleanup failed", "error", err)
	}
}
