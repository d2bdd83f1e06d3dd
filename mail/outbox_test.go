package mail_test

import (
	"errors"
	"net/http"
	netmail "net/mail"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/mailer"
	"github.com/pocketbase/pocketbase/tools/types"

	"ticketportal/mail"
	"ticketportal/testapp"
)

// fastRetries makes the worker retry within a test's patience.
var fastRetries = mail.Options{
	MinBackoff:  50 * time.Millisecond,
	MaxBackoff:  200 * time.Millisecond,
	GiveUpAfter: time.Hour,
	SendTimeout: 5 * time.Second,
	Poll:        time.Second,
	KeepSent:    time.Hour,
}

func message(to, subject string) *mailer.Message {
	return &mailer.Message{
		From:    netmail.Address{Name: "Ticket Portal", Address: "support@example.com"},
		To:      []netmail.Address{{Address: to}},
		Subject: subject,
		HTML:    "<p>Hello</p>",
		Text:    "Hello",
	}
}

type outboxEntry struct {
	Id        string `db:"id"`
	Status    string `db:"status"`
	Attempts  int    `db:"attempts"`
	LastError string `db:"lastError"`
	SentAt    string `db:"sentAt"`
}

func entry(t testing.TB, app core.App, id string) outboxEntry {
	t.Helper()
	var e outboxEntry
	err := app.DB().Select("id", "status", "attempts", "lastError", "sentAt").From(mail.OutboxCollection).
		Where(dbx.HashExp{"id": id}).One(&e)
	if err != nil {
		t.Fatalf("reading outbox entry %s: %v", id, err)
	}
	return e
}

// waitEntry polls the outbox entry until ok says so.
func waitEntry(t testing.TB, app core.App, id string, timeout time.Duration, ok func(outboxEntry) bool) outboxEntry {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		e := entry(t, app, id)
		if ok(e) {
			return e
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbox entry %s did not reach the expected state within %s: %+v", id, timeout, e)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mailsTo(srv *testapp.SMTPServer, addr string) int {
	n := 0
	for _, m := range srv.Mails() {
		for _, to := range m.To {
			if strings.EqualFold(to, addr) {
				n++
			}
		}
	}
	return n
}

func TestOutboxDeliversPromptlyAndRecordsIt(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	srv := testapp.StartSMTP(t)
	srv.Use(t, app)

	start := time.Now()
	id, err := mail.Enqueue(app, message("alice@example.com", "Prompt <mail>"))
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("queueing took %s", d)
	}
	srv.WaitFor(t, "alice@example.com", "Prompt <mail>", 3*time.Second)
	e := waitEntry(t, app, id, 2*time.Second, func(e outboxEntry) bool { return e.Status == mail.StatusSent })
	if e.Attempts != 1 || e.SentAt == "" || e.LastError != "" {
		t.Fatalf("sent entry: %+v", e)
	}
	if n := mailsTo(srv, "alice@example.com"); n != 1 {
		t.Fatalf("%d mails arrived, want 1", n)
	}
}

func TestOutboxCallerNeverWaitsForSlowSMTP(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	srv := testapp.StartSMTP(t)
	srv.Use(t, app)
	srv.SetDelay(2 * time.Second)

	start := time.Now()
	for i := range 3 {
		mail.Deliver(app, message("bob@example.com", "Slow "+string(rune('a'+i))))
	}
	if d := time.Since(start); d > 300*time.Millisecond {
		t.Fatalf("three Deliver calls took %s with a 2 s SMTP server", d)
	}
	srv.WaitFor(t, "bob@example.com", "Slow a", 5*time.Second)
}

func TestOutboxRetriesWhileSMTPIsDownAndDeliversWhenItIsBack(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	mail.SetOutboxOptions(app, fastRetries)
	srv := testapp.StartSMTP(t)
	srv.Use(t, app)
	srv.Stop(t)

	id, err := mail.Enqueue(app, message("carol@example.com", "While down"))
	if err != nil {
		t.Fatal(err)
	}
	down := waitEntry(t, app, id, 3*time.Second, func(e outboxEntry) bool { return e.Attempts >= 2 })
	if down.Status == mail.StatusSent || down.LastError == "" {
		t.Fatalf("with SMTP down the entry is %+v", down)
	}

	srv.Restart(t)
	srv.WaitFor(t, "carol@example.com", "While down", 3*time.Second)
	waitEntry(t, app, id, 2*time.Second, func(e outboxEntry) bool { return e.Status == mail.StatusSent })
	time.Sleep(300 * time.Millisecond) // a duplicate would arrive now
	if n := mailsTo(srv, "carol@example.com"); n != 1 {
		t.Fatalf("%d mails arrived, want 1", n)
	}
}

func TestOutboxRetriesWhenTheServerRefusesTheMail(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	mail.SetOutboxOptions(app, fastRetries)
	srv := testapp.StartSMTP(t)
	srv.Use(t, app)
	srv.SetRefuse(true)

	id, _ := mail.Enqueue(app, message("dave@example.com", "Refused first"))
	refused := waitEntry(t, app, id, 3*time.Second, func(e outboxEntry) bool { return e.Attempts >= 1 && e.Status == mail.StatusPending })
	if !strings.Contains(refused.LastError, "451") {
		t.Fatalf("last error %q does not name the SMTP reply", refused.LastError)
	}
	srv.SetRefuse(false)
	srv.WaitFor(t, "dave@example.com", "Refused first", 3*time.Second)
}

func TestOutboxGivesUpAfterItsDeadline(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	opts := fastRetries
	opts.GiveUpAfter = 300 * time.Millisecond
	mail.SetOutboxOptions(app, opts)
	srv := testapp.StartSMTP(t)
	srv.Use(t, app)
	srv.Stop(t)

	id, _ := mail.Enqueue(app, message("erin@example.com", "Never"))
	e := waitEntry(t, app, id, 5*time.Second, func(e outboxEntry) bool { return e.Status == mail.StatusFailed })
	if !strings.HasPrefix(e.LastError, "Given up") {
		t.Fatalf("failed entry: %+v", e)
	}
}

func TestOutboxQueuesWithTheTransaction(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	srv := testapp.StartSMTP(t)
	srv.Use(t, app)

	var rolledBack, committed string
	_ = app.RunInTransaction(func(tx core.App) error {
		rolledBack, _ = mail.Enqueue(tx, message("frank@example.com", "Rolled back"))
		return errors.New("roll back")
	})
	err := app.RunInTransaction(func(tx core.App) error {
		var err error
		committed, err = mail.Enqueue(tx, message("frank@example.com", "Committed"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.WaitFor(t, "frank@example.com", "Committed", 3*time.Second)
	var n int
	_ = app.DB().Select("COUNT(*)").From(mail.OutboxCollection).Where(dbx.HashExp{"id": rolledBack}).Row(&n)
	if n != 0 {
		t.Fatal("the mail of a rolled-back transaction stayed in the outbox")
	}
	if got := mailsTo(srv, "frank@example.com"); got != 1 {
		t.Fatalf("%d mails arrived, want only the committed one", got)
	}
	waitEntry(t, app, committed, 2*time.Second, func(e outboxEntry) bool { return e.Status == mail.StatusSent })
}

// A process killed mid-send leaves its mail "sending". The next start marks
// it interrupted and does not send it again (at most once), and sends what
// was still pending.
func TestOutboxAfterACrashMidSendSendsNothingTwice(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "pb_data")
	srv := testapp.StartSMTP(t)

	first := openApp(t, dataDir, srv)
	srv.Stop(t) // nothing gets out while "the first process" runs
	mail.SetOutboxOptions(first, fastRetries)
	pending, err := mail.Enqueue(first, message("grace@example.com", "Pending at crash"))
	if err != nil {
		t.Fatal(err)
	}
	waitEntry(t, first, pending, 3*time.Second, func(e outboxEntry) bool { return e.Attempts >= 1 })
	midSend, err := mail.Enqueue(first, message("heidi@example.com", "Sending at crash"))
	if err != nil {
		t.Fatal(err)
	}
	waitEntry(t, first, midSend, 3*time.Second, func(e outboxEntry) bool { return e.Attempts >= 1 })
	closeApp(t, first)
	// what a process killed between "sending" and "sent" leaves behind
	setStatus(t, dataDir, midSend, mail.StatusSending)

	srv.Restart(t)
	second := openApp(t, dataDir, srv)
	defer closeApp(t, second)
	srv.WaitFor(t, "grace@example.com", "Pending at crash", 5*time.Second)
	e := waitEntry(t, second, midSend, 2*time.Second, func(e outboxEntry) bool { return e.Status != mail.StatusSending })
	if e.Status != mail.StatusInterrupted || !strings.Contains(e.LastError, "may or may not have arrived") {
		t.Fatalf("the mail being sent at the crash is %+v", e)
	}
	time.Sleep(300 * time.Millisecond)
	if n := mailsTo(srv, "heidi@example.com"); n != 0 {
		t.Fatalf("the interrupted mail was sent %d times after the restart", n)
	}

	// an operator who knows it never arrived sends it again from the dashboard
	rec, err := second.FindRecordById(mail.OutboxCollection, midSend)
	if err != nil {
		t.Fatal(err)
	}
	rec.Set("status", mail.StatusPending)
	if err := second.Save(rec); err != nil {
		t.Fatal(err)
	}
	srv.WaitFor(t, "heidi@example.com", "Sending at crash", 3*time.Second)
}

// Mail queued while SMTP is down is delivered by the next run of the server
// (the worker starts with it), once SMTP is back.
func TestOutboxDeliversAfterAnAppRestart(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "pb_data")
	srv := testapp.StartSMTP(t)
	srv.Stop(t)

	first := openApp(t, dataDir, srv)
	id, err := mail.Enqueue(first, message("ivan@example.com", "Across a restart"))
	if err != nil {
		t.Fatal(err)
	}
	waitEntry(t, first, id, 3*time.Second, func(e outboxEntry) bool { return e.Attempts >= 1 && e.Status == mail.StatusPending })
	closeApp(t, first)

	srv.Restart(t)
	second := openApp(t, dataDir, srv)
	defer closeApp(t, second)
	// the first attempt was backed off by 10 s: the restart must not wait for it
	srv.WaitFor(t, "ivan@example.com", "Across a restart", 3*time.Second)
	e := waitEntry(t, second, id, 2*time.Second, func(e outboxEntry) bool { return e.Status == mail.StatusSent })
	if e.Attempts != 2 {
		t.Fatalf("attempts = %d, want 2 (one while down, one after the restart)", e.Attempts)
	}
}

// Flush sends what is due in the caller's goroutine, for tests that want no
// worker timing at all.
func TestFlushSendsDueMailNow(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "pb_data")
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: dataDir})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	defer app.ClearBootstrap()
	if err := app.RunAllMigrations(); err != nil {
		t.Fatal(err)
	}
	srv := testapp.StartSMTP(t)
	srv.Use(t, app)
	// no RegisterOutbox: no worker runs in this app
	id, err := mail.Enqueue(app, message("judy@example.com", "Flushed"))
	if err != nil {
		t.Fatal(err)
	}
	if e := entry(t, app, id); e.Status != mail.StatusPending {
		t.Fatalf("before Flush: %+v", e)
	}
	mail.Flush(app)
	if e := entry(t, app, id); e.Status != mail.StatusSent {
		t.Fatalf("after Flush: %+v", e)
	}
	srv.WaitFor(t, "judy@example.com", "Flushed", time.Second)
}

func TestOutboxIsForOperatorsOnly(t *testing.T) {
	withOneMail := func(t testing.TB) *tests.TestApp {
		app := testapp.New(t)
		if _, err := mail.Enqueue(app, message("alice@example.com", "Secret link")); err != nil {
			t.Fatal(err)
		}
		return app
	}
	for _, kind := range testapp.Callers {
		listStatus, listContent := http.StatusForbidden, []string{`"status":403`}
		createStatus, createContent := http.StatusForbidden, []string{`"status":403`}
		if kind == testapp.Operator {
			listStatus, listContent = http.StatusOK, []string{`"totalItems":1`, `"subject":"Secret link"`}
			createStatus, createContent = http.StatusOK, []string{`"status":"pending"`}
		}
		(&tests.ApiScenario{
			Name:               kind + " lists the mail outbox",
			Method:             http.MethodGet,
			URL:                "/api/collections/mailOutbox/records",
			Headers:            testapp.Headers(t, kind),
			ExpectedStatus:     listStatus,
			ExpectedContent:    listContent,
			NotExpectedContent: map[bool][]string{true: {"Secret link"}}[kind != testapp.Operator],
			TestAppFactory:     withOneMail,
		}).Test(t)
		(&tests.ApiScenario{
			Name:            kind + " writes to the mail outbox",
			Method:          http.MethodPost,
			URL:             "/api/collections/mailOutbox/records",
			Body:            strings.NewReader(`{"to":"x@example.com","status":"pending"}`),
			Headers:         testapp.Headers(t, kind),
			ExpectedStatus:  createStatus,
			ExpectedContent: createContent,
			TestAppFactory:  testapp.Factory,
		}).Test(t)
	}
}

func TestBackoffDoublesUpToItsCap(t *testing.T) {
	opts := mail.DefaultOptions
	for attempt, want := range map[int]time.Duration{
		1: 10 * time.Second, 2: 20 * time.Second, 3: 40 * time.Second,
		6: 320 * time.Second, 7: 10 * time.Minute, 50: 10 * time.Minute,
	} {
		if got := mail.Backoff(opts, attempt); got != want {
			t.Errorf("backoff after attempt %d = %s, want %s", attempt, got, want)
		}
	}
}

// openApp opens (and migrates) the portal's app on dataDir with the portal's
// hooks and its mail going to srv, as a `serve` process would.
func openApp(t testing.TB, dataDir string, srv *testapp.SMTPServer) core.App {
	t.Helper()
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: dataDir})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	if err := app.RunAllMigrations(); err != nil {
		t.Fatal(err)
	}
	srv.Use(t, app)       // before the worker runs: it reads these settings
	testapp.Register(app) // starts the outbox worker: the app is bootstrapped
	return app
}

func closeApp(t testing.TB, app core.App) {
	t.Helper()
	if err := app.ClearBootstrap(); err != nil {
		t.Fatal(err)
	}
}

// setStatus changes an entry's status with nothing else running.
func setStatus(t testing.TB, dataDir, id, status string) {
	t.Helper()
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: dataDir})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	defer app.ClearBootstrap()
	_, err := app.DB().Update(mail.OutboxCollection, dbx.Params{"status": status, "updatedAt": types.NowDateTime().String()}, dbx.HashExp{"id": id}).Execute()
	if err != nil {
		t.Fatal(err)
	}
}
