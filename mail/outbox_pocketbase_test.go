package mail_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/mail"
	"ticketportal/testapp"
)

func post(t testing.TB, url, token, body string) (int, string) {
	t.Helper()
	status, raw := testapp.Call(t, "POST", url, token, body)
	return status, string(raw)
}

func outboxTo(t testing.TB, app core.App, addr string) []outboxEntry {
	t.Helper()
	var rows []outboxEntry
	err := app.DB().Select("id", "status", "attempts", "lastError", "sentAt").From(mail.OutboxCollection).
		Where(dbx.HashExp{"to": addr}).All(&rows)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// PocketBase's own mail endpoints send through its mailer, not through
// mail.Deliver: their mails are queued in the outbox all the same, and
// arrive once SMTP is back.
func TestPocketBaseOwnMailsGoThroughTheOutbox(t *testing.T) {
	app := testapp.New(t)
	mail.SetOutboxOptions(app, fastRetries)
	base := testapp.Serve(t, app)
	srv := testapp.StartSMTP(t)
	srv.Use(t, app)
	srv.Stop(t)

	if status, body := post(t, base+"/api/collections/users/request-password-reset", "", `{"email":"alice@example.com"}`); status != http.StatusNoContent {
		t.Fatalf("request-password-reset: %d %s", status, body)
	}
	deadline := time.Now().Add(3 * time.Second)
	var queued []outboxEntry
	for len(queued) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		queued = outboxTo(t, app, "alice@example.com")
	}
	if len(queued) != 1 {
		t.Fatalf("%d outbox entries for the reset mail, want 1", len(queued))
	}
	srv.Restart(t)
	m := srv.WaitFor(t, "alice@example.com", "reset your password", 3*time.Second)
	if !strings.Contains(m.HTML, "/resetPassword?token=") {
		t.Fatalf("the queued mail lost its link: %s", m.HTML)
	}
	waitEntry(t, app, queued[0].Id, 2*time.Second, func(e outboxEntry) bool { return e.Status == mail.StatusSent })
	time.Sleep(200 * time.Millisecond)
	if n := mailsTo(srv, "alice@example.com"); n != 1 {
		t.Fatalf("%d reset mails arrived, want 1", n)
	}
}

// The dashboard's "send test email" is not queued: the operator who tests
// the SMTP settings learns at once whether they work.
func TestDashboardTestMailIsSentAtOnce(t *testing.T) {
	app := testapp.New(t)
	base := testapp.Serve(t, app)
	srv := testapp.StartSMTP(t)
	srv.Use(t, app)
	op := testapp.Token(t, testapp.Operator)
	body := `{"email":"ops-check@example.com","template":"password-reset","collection":"users"}`

	if status, out := post(t, base+"/api/settings/test/email", op, body); status != http.StatusNoContent {
		t.Fatalf("test mail with SMTP up: %d %s", status, out)
	}
	if len(srv.Mails()) != 1 {
		t.Fatalf("the test mail was not sent before the answer (%d mails)", len(srv.Mails()))
	}
	srv.Stop(t)
	if status, _ := post(t, base+"/api/settings/test/email", op, body); status != http.StatusBadRequest {
		t.Fatalf("test mail with SMTP down: %d, want 400", status)
	}
	if rows := outboxTo(t, app, "ops-check@example.com"); len(rows) != 0 {
		t.Fatalf("test mails went to the outbox: %+v", rows)
	}
}
