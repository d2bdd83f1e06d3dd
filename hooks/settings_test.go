package hooks_test

import (
	"net"
	"net/mail"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"

	"ticketportal/hooks"
	"ticketportal/testapp"
)

// bootstrap starts a plain (non-test) app on a fresh data dir with the
// portal's hooks, as `serve` would, so that OnBootstrap hooks run.
func bootstrap(t *testing.T) (core.App, error) {
	t.Helper()
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: filepath.Join(t.TempDir(), "pb_data")})
	hooks.Register(app)
	err := app.Bootstrap()
	t.Cleanup(func() {
		if app.IsBootstrapped() {
			app.ClearBootstrap()
		}
	})
	return app, err
}

func TestEnvMailSettingsApplyAtStartAndReachTheSMTPServer(t *testing.T) {
	srv := testapp.StartSMTP(t)
	host, port, _ := net.SplitHostPort(srv.Addr)
	t.Setenv(hooks.EnvAppURL, "https://help.example.com/")
	t.Setenv(hooks.EnvSenderAddress, "help@example.com")
	t.Setenv(hooks.EnvSenderName, "Example Help")
	t.Setenv(hooks.EnvSMTPHost, host)
	t.Setenv(hooks.EnvSMTPPort, port)
	t.Setenv(hooks.EnvSMTPUsername, "")
	t.Setenv(hooks.EnvSMTPPassword, "")
	t.Setenv(hooks.EnvSMTPTLS, "false")

	app, err := bootstrap(t)
	if err != nil {
		t.Fatal(err)
	}
	s := app.Settings()
	if s.Meta.AppURL != "https://help.example.com" || s.Meta.SenderAddress != "help@example.com" || s.Meta.SenderName != "Example Help" {
		t.Fatalf("meta not applied: %+v", s.Meta)
	}
	if !s.SMTP.Enabled || s.SMTP.Host != host || s.SMTP.TLS {
		t.Fatalf("smtp not applied: enabled=%v host=%q tls=%v", s.SMTP.Enabled, s.SMTP.Host, s.SMTP.TLS)
	}

	msg := &mailer.Message{
		From:    mail.Address{Name: s.Meta.SenderName, Address: s.Meta.SenderAddress},
		To:      []mail.Address{{Address: "someone@example.com"}},
		Subject: "Env settings probe",
		Text:    "hello",
	}
	if err := app.NewMailClient().Send(msg); err != nil {
		t.Fatalf("sending through the env SMTP settings: %v", err)
	}
	got := srv.WaitFor(t, "someone@example.com", "Env settings probe", 10*time.Second)
	if got.From != "help@example.com" {
		t.Fatalf("sender %q", got.From)
	}
}

func TestEnvMailSettingsWinAfterADashboardSave(t *testing.T) {
	t.Setenv(hooks.EnvSMTPHost, "smtp.env.example.com")
	t.Setenv(hooks.EnvSMTPPort, "2525")
	t.Setenv(hooks.EnvSMTPTLS, "true")
	t.Setenv(hooks.EnvSMTPPassword, " secret with spaces ")

	app, err := bootstrap(t)
	if err != nil {
		t.Fatal(err)
	}
	// a dashboard save stores the settings and reloads them
	s := app.Settings()
	s.SMTP.Host = "smtp.dashboard.example.com"
	s.SMTP.Port = 25
	s.Meta.SenderName = "Set in the dashboard"
	if err := app.Save(s); err != nil {
		t.Fatal(err)
	}
	s = app.Settings()
	if s.SMTP.Host != "smtp.env.example.com" || s.SMTP.Port != 2525 || !s.SMTP.TLS || s.SMTP.Password != " secret with spaces " {
		t.Fatalf("env not re-applied after reload: %+v", s.SMTP)
	}
	if s.Meta.SenderName != "Set in the dashboard" {
		t.Fatalf("an unset variable overrode the stored sender name: %q", s.Meta.SenderName)
	}
}

func TestUnsetEnvKeepsStoredMailSettings(t *testing.T) {
	for _, name := range []string{hooks.EnvAppURL, hooks.EnvSenderAddress, hooks.EnvSenderName, hooks.EnvSMTPHost,
		hooks.EnvSMTPPort, hooks.EnvSMTPUsername, hooks.EnvSMTPPassword, hooks.EnvSMTPTLS} {
		t.Setenv(name, "")
	}
	app, err := bootstrap(t)
	if err != nil {
		t.Fatal(err)
	}
	if s := app.Settings(); s.SMTP.Enabled || s.SMTP.Host != "smtp.example.com" || s.Meta.AppURL != "http://localhost:8090" {
		t.Fatalf("stored defaults changed: %+v %+v", s.SMTP, s.Meta)
	}
}

func TestMalformedEnvMailSettingsStopTheStart(t *testing.T) {
	for _, c := range []struct{ name, value, mention string }{
		{hooks.EnvSMTPPort, "twenty-five", hooks.EnvSMTPPort},
		{hooks.EnvSMTPPort, "70000", hooks.EnvSMTPPort},
		{hooks.EnvSMTPTLS, "maybe", hooks.EnvSMTPTLS},
	} {
		t.Run(c.name+"="+c.value, func(t *testing.T) {
			t.Setenv(c.name, c.value)
			_, err := bootstrap(t)
			if err == nil || !strings.Contains(err.Error(), c.mention) {
				t.Fatalf("want an error naming %s, got %v", c.mention, err)
			}
		})
	}
}
