package mail

import (
	"errors"
	"os"
	"strconv"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/mailer"
	"github.com/pocketbase/pocketbase/tools/types"
)

// The outbox: every portal mail is first written to the mailOutbox
// collection (in the caller's transaction, if any) and then sent by one
// background worker per app, so that the request that caused a mail never
// waits for SMTP and a mail server that is down loses nothing.
//
// Up to Options.Senders mails are sent at once (each its own SMTP
// conversation). A permanent rejection (an SMTP 5xx reply) fails the mail at
// once; a mail of a ticket then gets a mailFailed line in the ticket's
// history (and a sent one a mailSent line).
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
	Senders     int           // SMTP conversations at once (PORTAL_MAIL_SENDERS, default 4)
}

// DefaultOptions are the worker's production settings.
var DefaultOptions = Options{
	MinBackoff:  10 * time.Second,
	MaxBackoff:  10 * time.Minute,
	GiveUpAfter: 24 * time.Hour,
	SendTimeout: 60 * time.Second,
	Poll:        30 * time.Second,
	KeepSent:    14 * 24 * time.Hour,
	Senders:     sendersFromEnv(),
}

// SendersEnv sets the number of parallel SMTP senders (1 to 32).
const SendersEnv = "PORTAL_MAIL_SENDERS"

func sendersFromEnv() int {
	if n, err := strconv.Atoi(os.Getenv(SendersEnv)); err == nil && n >= 1 && n <= 32 {
		return n
	}
	return 4
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
	return enqueue(app, msg, "", "")
}

// enqueue queues msg, naming the ticket it belongs to and its Message-ID
// (both "" for a mail that is no ticket's).
func enqueue(app core.App, msg *mailer.Message, ticketId, messageId string) (string, error) {
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
		"ticket":        ticketId,
		"messageId":     messageId,
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
	bindAutoReply(app)
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
	// PocketBase's own mails (its request-verification, request-password-
	// reset, request-email-change and OTP endpoints) go through its mailer
	// directly: queue them too, so that every mail is durable. The
	// dashboard's "send test email" (to a record that does not exist) is
	// sent at once, so that the operator sees whether SMTP works.
	app.OnMailerSend().Bind(&hook.Handler[*core.MailerEvent]{
		Id: "portalMailOutbox",
		Func: func(e *core.MailerEvent) error {
			if _, ok := o.direct.Load(e.Message); ok || !o.ready() {
				return e.Next()
			}
			if _, err := Enqueue(e.App, e.Message); err != nil {
				e.App.Logger().Error("queueing a mail failed; sending it now", "subject", e.Message.Subject, "error", err)
				return e.Next()
			}
			return nil
		},
	})
	testMail := func(e *core.MailerRecordEvent) error {
		if e.Record == nil || !e.Record.IsNew() {
			return e.Next()
		}
		o.direct.Store(e.Message, struct{}{})
		defer o.direct.Delete(e.Message)
		return e.Next()
	}
	app.OnMailerRecordVerificationSend().BindFunc(testMail)
	app.OnMailerRecordPasswordResetSend().BindFunc(testMail)
	app.OnMailerRecordEmailChangeSend().BindFunc(testMail)
	app.OnMailerRecordOTPSend().BindFunc(testMail)
	app.OnMailerRecordAuthAlertSend().BindFunc(testMail)

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

// Settle sends every mail that is due now, in the caller's goroutine, and
// then waits for a pass of the worker under way to end. Once it returns
// and until more mail is queued (or a retry falls due), the outbox fires
// no hook. The test apps of the scenario tests settle after each request,
// since a scenario reads the hooks' call counts without a lock.
func Settle(app core.App) {
	Flush(app)
	o := outboxOf(app)
	o.passing.Lock()
	o.passing.Unlock()
}
