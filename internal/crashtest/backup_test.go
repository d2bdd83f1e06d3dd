package crashtest

import (
	"context"
	"net/http"
	netmail "net/mail"
	"path/filepath"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/archive"
	"github.com/pocketbase/pocketbase/tools/mailer"

	"ticketportal/mail"
	_ "ticketportal/migrations"
	"ticketportal/policy"
)

// A backup made with app.CreateBackup (what the dashboard's and the
// scheduled backups call) restores into a fresh data dir by unzipping it:
// accounts (and their passwords), tickets, answers, settings and the mail
// outbox are all there.
func TestBackupRestoresIntoAFreshDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pb_data")
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: dir})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	if err := app.RunAllMigrations(); err != nil {
		t.Fatal(err)
	}
	// no hooks: no outbox worker may touch the queued mail below

	users, _ := app.FindCollectionByNameOrId(policy.Users)
	customer := core.NewRecord(users)
	customer.Load(map[string]any{"userName": "restored", "userFirstName": "Rita", "userLastName": "Stone", "mobileNumber": "+1 555 0142"})
	customer.SetEmail("rita@example.com")
	customer.SetPassword("rita-password-1")
	customer.SetVerified(true)
	if err := app.Save(customer); err != nil {
		t.Fatal(err)
	}
	tickets, _ := app.FindCollectionByNameOrId(policy.Tickets)
	ticket := core.NewRecord(tickets)
	ticket.Load(map[string]any{"customerId": customer.Id, "ticketContent": "Is my data backed up?", "ticketStatus": policy.StatusActive})
	if err := app.Save(ticket); err != nil {
		t.Fatal(err)
	}
	answers, _ := app.FindCollectionByNameOrId(policy.Messages)
	admins, _ := app.FindCollectionByNameOrId(policy.Admins)
	admin := core.NewRecord(admins)
	admin.Load(map[string]any{"userName": "boss", "role": policy.RoleSuperAdmin})
	admin.SetEmail("boss@example.com")
	admin.SetPassword("boss-password-1")
	admin.SetVerified(true)
	if err := app.Save(admin); err != nil {
		t.Fatal(err)
	}
	answer := core.NewRecord(answers)
	answer.Load(map[string]any{"ticket": ticket.Id, "kind": policy.KindAnswer, "body": "Yes, every night.", "authorId": admin.Id})
	if err := app.Save(answer); err != nil {
		t.Fatal(err)
	}
	queued, err := mail.Enqueue(app, &mailer.Message{
		From:    netmail.Address{Address: "support@example.com"},
		To:      []netmail.Address{{Address: "rita@example.com"}},
		Subject: "Your ticket has a new answer",
		HTML:    "<p>Yes, every night.</p>",
	})
	if err != nil {
		t.Fatal(err)
	}

	if err := app.CreateBackup(context.Background(), "portal_backup.zip"); err != nil {
		t.Fatal(err)
	}
	// a change after the backup must not be in the restored data
	ticket.Set("ticketStatus", policy.StatusClosed)
	if err := app.Save(ticket); err != nil {
		t.Fatal(err)
	}
	if err := app.ClearBootstrap(); err != nil {
		t.Fatal(err)
	}

	fresh := filepath.Join(t.TempDir(), "restored_pb_data")
	if err := archive.Extract(filepath.Join(dir, "backups", "portal_backup.zip"), fresh); err != nil {
		t.Fatal(err)
	}
	restored := core.NewBaseApp(core.BaseAppConfig{DataDir: fresh})
	if err := restored.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	defer restored.ClearBootstrap()
	if err := restored.RunAllMigrations(); err != nil { // nothing left to apply
		t.Fatal(err)
	}

	c, err := restored.FindAuthRecordByEmail(policy.Users, "rita@example.com")
	if err != nil || c.Id != customer.Id || !c.ValidatePassword("rita-password-1") {
		t.Fatalf("customer after restore: %v %v", c, err)
	}
	tk, err := restored.FindRecordById(policy.Tickets, ticket.Id)
	if err != nil || tk.GetString("ticketContent") != "Is my data backed up?" || tk.GetString("ticketStatus") != policy.StatusActive {
		t.Fatalf("ticket after restore: %v %v", tk, err)
	}
	if a, err := restored.FindRecordById(policy.Messages, answer.Id); err != nil || a.GetString("body") != "Yes, every night." {
		t.Fatalf("answer after restore: %v %v", a, err)
	}
	if o, err := restored.FindRecordById(mail.OutboxCollection, queued); err != nil || o.GetString("status") != mail.StatusPending {
		t.Fatalf("queued mail after restore: %v %v", o, err)
	}
	if s := restored.Settings(); !s.RateLimits.Enabled || s.Meta.AppName != "Ticket Portal" {
		t.Fatalf("settings after restore: rate limits %v, app name %q", s.RateLimits.Enabled, s.Meta.AppName)
	}
}

// The dashboard's restore (Settings → Backups → Restore) on the running
// binary: the server replaces its data with the backup and restarts itself.
func TestDashboardRestoreOnTheRunningServer(t *testing.T) {
	dir := newDataDir(t)
	s := start(t, dir)
	op := s.operatorToken()
	token := s.customers(op, 1)[0]
	before := s.must(http.StatusCreated, http.MethodPost, "/sendTicket", token, `{"ticketContent":"Made before the backup."}`)["ticketId"].(string)
	s.must(http.StatusNoContent, http.MethodPost, "/api/backups", op, `{"name":"nightly.zip"}`)
	after := s.must(http.StatusCreated, http.MethodPost, "/sendTicket", token, `{"ticketContent":"Made after the backup."}`)["ticketId"].(string)

	s.must(http.StatusNoContent, http.MethodPost, "/api/backups/nightly.zip/restore", op, "")
	// the process restarts itself (same pid) on the backup's data: the
	// ticket made after the backup disappears
	deadline := time.Now().Add(30 * time.Second)
	for {
		time.Sleep(200 * time.Millisecond)
		status, _, err := s.request(http.MethodGet, "/api/collections/tickets/records/"+after, op, "")
		if err == nil && status == http.StatusNotFound {
			break
		}
		if s.exited() || time.Now().After(deadline) {
			t.Fatalf("the restore did not happen (%d, %v):\n%s", status, err, s.log)
		}
	}
	s.must(http.StatusOK, http.MethodGet, "/api/collections/tickets/records/"+before, op, "")
	// the restored server works: the customer's token is still valid
	s.must(http.StatusCreated, http.MethodPost, "/sendTicket", token, `{"ticketContent":"Made after the restore."}`)
}
