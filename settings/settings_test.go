package settings_test

import (
	"strings"
	"testing"

	"ticketportal/settings"
	"ticketportal/testapp"
)

func TestEnvNames(t *testing.T) {
	for key, want := range map[string]string{
		"reopenWindowDays": "PORTAL_REOPEN_WINDOW_DAYS", "inboundAddress": "PORTAL_INBOUND_ADDRESS",
		"maxAttachmentMB": "PORTAL_MAX_ATTACHMENT_MB", "sla": "PORTAL_SLA", "csat": "PORTAL_CSAT", "autoReply": "PORTAL_AUTO_REPLY",
	} {
		if got := settings.EnvName(key); got != want {
			t.Errorf("%s: %s, want %s", key, got, want)
		}
	}
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{
		"PORTAL_REOPEN_WINDOW_DAYS": "7", "PORTAL_INBOUND_ADDRESS": "support@example.com", "PORTAL_INBOUND_NEW_TICKETS": "customers",
		"PORTAL_SLA":  `{"high":{"firstResponseMinutes":30,"resolveMinutes":240},"normal":{"firstResponseMinutes":240,"resolveMinutes":2880}}`,
		"PORTAL_CSAT": "false", "PORTAL_AUTO_REPLY": "true",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	s, err := settings.FromEnv(settings.Defaults(), lookup)
	if err != nil {
		t.Fatal(err)
	}
	want := settings.Defaults()
	want.ReopenWindowDays, want.InboundAddress, want.InboundNewTickets = 7, "support@example.com", "customers"
	want.SLA = settings.SLA{High: settings.Target{FirstResponseMinutes: 30, ResolveMinutes: 240}, Normal: settings.Target{FirstResponseMinutes: 240, ResolveMinutes: 2880}}
	want.CSAT, want.AutoReply = false, true
	if s != want {
		t.Errorf("got %+v\nwant %+v", s, want)
	}
	for name, value := range map[string]string{
		"PORTAL_REOPEN_WINDOW_DAYS": "-3", "PORTAL_SLA": `{"high":{}}`, "PORTAL_CSAT": "maybe", "PORTAL_INBOUND_NEW_TICKETS": "all",
	} {
		_, err := settings.FromEnv(settings.Defaults(), func(k string) (string, bool) { return value, k == name })
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: %v", name, value, err)
		}
	}
}

// The environment wins at start; an edit through the dashboard (record API
// as an operator) is seen by settings.Get at once, and a bad value is
// refused there too.
func TestSettingsFollowTheRecord(t *testing.T) {
	t.Setenv("PORTAL_REOPEN_WINDOW_DAYS", "5")
	app := testapp.New(t)
	if err := settings.ApplyEnv(app); err != nil {
		t.Fatal(err)
	}
	if got := settings.Get(app).ReopenWindowDays; got != 5 {
		t.Fatalf("after the environment: %d", got)
	}
	url := testapp.Serve(t, app)
	op := testapp.Token(t, testapp.Operator)
	path := url + "/api/collections/portalSettings/records/" + settings.RecordId
	if status, body := testapp.Call(t, "PATCH", path, op, `{"reopenWindowDays":30}`); status != 200 {
		t.Fatalf("dashboard edit: %d %s", status, body)
	}
	if got := settings.Get(app).ReopenWindowDays; got != 30 {
		t.Errorf("after the dashboard edit: %d", got)
	}
	if status, body := testapp.Call(t, "PATCH", path, op, `{"maxAttachmentMB":0}`); status != 400 || !strings.Contains(string(body), "maxAttachmentMB") {
		t.Errorf("bad dashboard edit: %d %s", status, body)
	}
	if got := settings.Get(app).MaxAttachmentMB; got != 10 {
		t.Errorf("after a refused edit: %d", got)
	}
	// nobody but operators reaches the record
	if status, _ := testapp.Call(t, "GET", path, testapp.Token(t, testapp.SuperAdmin), ""); status != 403 && status != 404 {
		t.Errorf("superAdmin on the record API: %d", status)
	}
}
