package mail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"
	"github.com/pocketbase/pocketbase/tools/types"
)

// The outbox: every portal mail is first written to the mailOutbox
// collection (in the caller's transaction, if any) and then sent by one
// background worker per app, so that the request that caused a mail never
// waits for SMTP and a mail server that is down loses nothing.
//
// Delivery semantics: a mail is marked "sending" before the SMTP
// conversation and "sent" after the server accepted it. A failed attempt
// (connection refused, an SMTP error reply) is retried with exponential
// backoff, and all waiting mail is retried as soon as one mail gets through,
// when the settings change and when the server starts. A mail found
// "sending" when the worker starts (the process died mid-send) or whose
// SMTP server did not answer in time is marked "interrupted" and not sent
// again: it may already have arrived, and the portal prefers at most one
// copy. An operator who knows better sets it back to "pending" in the
// dashboard. The one duplicate the portal cannot rule out is SMTP's own: a
// server that accepted the message but whose final reply was lost.
//
// The table is written with plain SQL rather than app.Save so that the
// outbox fires no record hooks or realtime events of its own.

// OutboxCollection is the name of the outbox collection.
const OutboxCollection = "mailOutbox"

// Outbox statuses.
const (
	StatusPending     = "pending"
	StatusSending     = "sending"
	StatusSent        = "sent"
	StatusFailed      = "failed"
	StatusInterrupted = "interrupted"
)

// Options tune the worker; DefaultOptions are the production values.
type Options struct {
	MinBackoff  time.Duration // wait before the first retry; doubled each attempt
	MaxBackoff  time.Duration // longest wait between two attempts
	GiveUpAfter time.Duration // a mail still unsent this long after it was queued is marked failed
	SendTimeout time.Duration // one SMTP conversation; longer = interrupted
	Poll        time.Duration // idle re-check of the table (mail queued by other means)
	KeepSent    time.Duration // sent mail older than this is deleted by the daily cleanup
}

// DefaultOptions are the worker's production settings.
var DefaultOptions = Options{
	MinBackoff:  10 * time.Second,
	MaxBackoff:  10 * time.Minute,
	GiveUpAfter: 24 * time.Hour,
	SendTimeout: 60 * time.Second,
	Poll:        30 * time.Second,
	KeepSent:    14 * 24 * time.Hour,
}

// stopGrace is how long stopping waits for an SMTP conversation under way.
const stopGrace = 5 * time.Second

const outboxStoreKey = "ticketportal.mailOutbox"

// Deliver queues msg in the outbox; the worker sends it. The request that
// caused the mail never waits for SMTP and never fails because of it: a
// mail that cannot even be queued is logged.
func Deliver(app core.App, msg *mailer.Message) {
	if _, err := Enqueue(app, msg); err != nil {
		app.Logger().Error("queueing a mail failed", "subject", msg.Subject, "error", err)
	}
}

// Enqueue writes msg to the outbox and wakes the worker, and returns the
// outbox record's id. Inside a transaction the mail is queued with it (and
// dropped if it rolls back) and the worker is woken once it commits.
func Enqueue(app core.App, msg *mailer.Message) (string, error) {
	if len(msg.To)+len(msg.Cc)+len(msg.Bcc) == 0 {
		return "", errors.New("a mail needs at least one recipient")
	}
	stored, err := encodeMessage(msg)
	if err != nil {
		return "", err
	}
	now := types.NowDateTime().String()
	id := core.GenerateDefaultRandomId()
	_, err = app.NonconcurrentDB().Insert(OutboxCollection, dbx.Params{
		"id":            id,
		"to":            cut(addressList(msg.To, msg.Cc, msg.Bcc), 2000),
		"subject":       cut(msg.Subject, 1000),
		"status":        StatusPending,
		"attempts":      0,
		"nextAttemptAt": now,
		"sentAt":        "",
		"lastError":     "",
		"message":       string(stored),
		"createdAt":     now,
		"updatedAt":     now,
	}).Execute()
	if err != nil {
		return "", err
	}
	if tx := app.TxInfo(); tx != nil {
		tx.OnComplete(func(txErr error) error {
			if txErr == nil {
				wake(app)
			}
			return nil
		})
	} else {
		wake(app)
	}
	return id, nil
}

// RegisterOutbox binds the outbox worker to app: it runs while the app
// serves (it starts in OnServe and picks up the mail left by an earlier
// run), and it runs at once in an app that is already bootstrapped (a test
// app). It stops before the app's database closes.
func RegisterOutbox(app core.App) {
	o := outboxOf(app)
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		o.Start()
		return se.Next()
	})
	app.OnBootstrapClear().BindFunc(func(e *core.BootstrapEvent) error {
		o.Stop()
		return e.Next()
	})
	// Changed settings (an operator fixing SMTP) retry the waiting mail now.
	app.OnSettingsReload().BindFunc(func(e *core.SettingsReloadEvent) error {
		if err := e.Next(); err != nil {
			return err
		}
		o.retryAllNow()
		return nil
	})
	// An operator's edit in the dashboard (e.g. back to pending) wakes it.
	app.OnRecordAfterUpdateSuccess(OutboxCollection).BindFunc(func(e *core.RecordEvent) error {
		o.wakeUp()
		return e.Next()
	})
	app.OnRecordAfterCreateSuccess(OutboxCollection).BindFunc(func(e *core.RecordEvent) error {
		o.wakeUp()
		return e.Next()
	})
	app.Cron().Add("mailOutboxCleanup", "17 3 * * *", o.cleanup)
	if app.IsBootstrapped() {
		o.Start()
	}
}

// SetOutboxOptions changes app's worker settings (tests shorten the backoff).
func SetOutboxOptions(app core.App, opts Options) {
	o := outboxOf(app)
	o.mu.Lock()
	o.opts = opts
	o.mu.Unlock()
	o.wakeUp()
}

// Flush sends every mail that is due now, in the caller's goroutine, and
// returns once done. Tests call it where they want to wait for the outbox.
func Flush(app core.App) {
	outboxOf(app).processDue(nil)
}

// Outbox is one app's worker.
type Outbox struct {
	app  core.App
	wake chan struct{}

	mu      sync.Mutex
	opts    Options
	stop    chan struct{} // nil when not running
	done    chan struct{}
	started bool
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
	go o.run(o.stop, o.done, !o.started)
	o.started = true
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

func (o *Outbox) run(stop, done chan struct{}, first bool) {
	defer close(done)
	if first {
		o.recoverInterrupted()
	}
	for {
		wait := o.safeProcessDue(stop)
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
		fresh := 0
		for _, id := range ids {
			if stopped(stop) {
				return opts.Poll
			}
			if tried[id] {
				continue
			}
			tried[id] = true
			fresh++
			o.sendOne(id, stop, opts)
		}
		if fresh == 0 {
			break
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
}

// sendOne claims one pending mail (so that no other worker or Flush sends
// it too), sends it and records the outcome.
func (o *Outbox) sendOne(id string, stop chan struct{}, opts Options) {
	db := o.app.NonconcurrentDB()
	now := types.NowDateTime().String()
	res, err := db.NewQuery(
		"UPDATE {{" + OutboxCollection + "}} SET [[status]] = {:sending}, [[attempts]] = [[attempts]] + 1, [[updatedAt]] = {:now} WHERE [[id]] = {:id} AND [[status]] = {:pending}",
	).Bind(dbx.Params{"sending": StatusSending, "pending": StatusPending, "now": now, "id": id}).Execute()
	if err != nil {
		o.app.Logger().Error("mail outbox: claiming a mail failed", "mail", id, "error", err)
		return
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return // somebody else took it
	}
	var row outboxRow
	err = db.Select("id", "attempts", "message", "createdAt").From(OutboxCollection).
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
		if row.Attempts > 0 {
			o.retryAllNow() // the server is back: the others need not wait
		}
		return
	}
	o.app.Logger().Warn("mail delivery failed", "mail", id, "attempt", row.Attempts, "error", sendErr)
	created, _ := types.ParseDateTime(row.CreatedAt)
	if !created.IsZero() && time.Since(created.Time()) > opts.GiveUpAfter {
		o.finish(id, StatusFailed, "Given up: "+sendErr.Error(), "")
		return
	}
	o.retryLater(id, sendErr, Backoff(opts, row.Attempts))
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

// storedMessage is the JSON form of a mailer.Message in the outbox.
type storedMessage struct {
	From        address           `json:"from"`
	To          []address         `json:"to"`
	Cc          []address         `json:"cc,omitempty"`
	Bcc         []address         `json:"bcc,omitempty"`
	Subject     string            `json:"subject"`
	HTML        string            `json:"html"`
	Text        string            `json:"text"`
	Headers     map[string]string `json:"headers,omitempty"`
	Attachments map[string][]byte `json:"attachments,omitempty"`
	Inline      map[string][]byte `json:"inlineAttachments,omitempty"`
}

type address struct {
	Name    string `json:"name,omitempty"`
	Address string `json:"address"`
}

func toAddresses(list []mail.Address) []address {
	out := make([]address, 0, len(list))
	for _, a := range list {
		out = append(out, address{Name: a.Name, Address: a.Address})
	}
	return out
}

func fromAddresses(list []address) []mail.Address {
	out := make([]mail.Address, 0, len(list))
	for _, a := range list {
		out = append(out, mail.Address{Name: a.Name, Address: a.Address})
	}
	return out
}

func readAll(files map[string]io.Reader) (map[string][]byte, error) {
	if len(files) == 0 {
		return nil, nil
	}
	out := make(map[string][]byte, len(files))
	for name, r := range files {
		data, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("reading attachment %q: %w", name, err)
		}
		out[name] = data
	}
	return out, nil
}

func readers(files map[string][]byte) map[string]io.Reader {
	if len(files) == 0 {
		return nil
	}
	out := make(map[string]io.Reader, len(files))
	for name, data := range files {
		out[name] = bytes.NewReader(data)
	}
	return out
}

func encodeMessage(msg *mailer.Message) ([]byte, error) {
	attachments, err := readAll(msg.Attachments)
	if err != nil {
		return nil, err
	}
	inline, err := readAll(msg.InlineAttachments)
	if err != nil {
		return nil, err
	}
	return json.Marshal(storedMessage{
		From: address{Name: msg.From.Name, Address: msg.From.Address},
		To:   toAddresses(msg.To), Cc: toAddresses(msg.Cc), Bcc: toAddresses(msg.Bcc),
		Subject: msg.Subject, HTML: msg.HTML, Text: msg.Text, Headers: msg.Headers,
		Attachments: attachments, Inline: inline,
	})
}

func decodeMessage(raw []byte) (*mailer.Message, error) {
	var s storedMessage
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, err
	}
	if len(s.To)+len(s.Cc)+len(s.Bcc) == 0 {
		return nil, errors.New("no recipient")
	}
	return &mailer.Message{
		From: mail.Address{Name: s.From.Name, Address: s.From.Address},
		To:   fromAddresses(s.To), Cc: fromAddresses(s.Cc), Bcc: fromAddresses(s.Bcc),
		Subject: s.Subject, HTML: s.HTML, Text: s.Text, Headers: s.Headers,
		Attachments: readers(s.Attachments), InlineAttachments: readers(s.Inline),
	}, nil
}

func addressList(lists ...[]mail.Address) string {
	var out []string
	for _, list := range lists {
		for _, a := range list {
			out = append(out, a.Address)
		}
	}
	return strings.Join(out, ", ")
}

// cut shortens s to at most n runes.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
