package hooks

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/pocketbase/pocketbase/core"
)

// Environment variables that override the mail settings at start. Only the
// variables that are set (and not empty) are applied; the rest keeps what
// the dashboard (Settings → Application / Mail) stored.
const (
	EnvAppURL        = "PORTAL_APP_URL"
	EnvSenderAddress = "PORTAL_SENDER_ADDRESS"
	EnvSenderName    = "PORTAL_SENDER_NAME"
	EnvSMTPHost      = "PORTAL_SMTP_HOST"
	EnvSMTPPort      = "PORTAL_SMTP_PORT"
	EnvSMTPUsername  = "PORTAL_SMTP_USERNAME"
	EnvSMTPPassword  = "PORTAL_SMTP_PASSWORD"
	EnvSMTPTLS       = "PORTAL_SMTP_TLS"
)

func bindSettings(app core.App) {
	// The environment's mail settings win over the stored ones at start...
	app.OnBootstrap().BindFunc(func(e *core.BootstrapEvent) error {
		if err := e.Next(); err != nil {
			return err
		}
		return ApplyEnvSettings(e.App)
	})

	// ...and after every reload (a dashboard save reloads the settings).
	app.OnSettingsReload().BindFunc(func(e *core.SettingsReloadEvent) error {
		if err := e.Next(); err != nil {
			return err
		}
		return ApplyEnvSettings(e.App)
	})
}

// ApplyEnvSettings copies the PORTAL_* variables that are set into the app's
// settings in memory (PocketBase's mailer reads them on every send). Setting
// PORTAL_SMTP_HOST turns SMTP on. A malformed port or TLS flag is an error,
// so that a misconfigured server refuses to start instead of losing mail.
func ApplyEnvSettings(app core.App) error {
	s := app.Settings()
	if v, ok := env(EnvAppURL); ok {
		s.Meta.AppURL = strings.TrimRight(v, "/")
	}
	if v, ok := env(EnvSenderAddress); ok {
		s.Meta.SenderAddress = v
	}
	if v, ok := env(EnvSenderName); ok {
		s.Meta.SenderName = v
	}
	if v, ok := env(EnvSMTPHost); ok {
		s.SMTP.Enabled = true
		s.SMTP.Host = v
	}
	if v, ok := env(EnvSMTPPort); ok {
		port, err := strconv.Atoi(v)
		if err != nil || port < 1 || port > 65535 {
			return fmt.Errorf("%s must be a port number, not %q", EnvSMTPPort, v)
		}
		s.SMTP.Port = port
	}
	if v, ok := env(EnvSMTPUsername); ok {
		s.SMTP.Username = v
	}
	if v := os.Getenv(EnvSMTPPassword); v != "" { // taken as is: spaces may be part of it
		s.SMTP.Password = v
	}
	if v, ok := env(EnvSMTPTLS); ok {
		tls, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%s must be true or false, not %q", EnvSMTPTLS, v)
		}
		s.SMTP.TLS = tls
	}
	return nil
}

// env returns the trimmed value of a variable that is set and not blank.
func env(name string) (string, bool) {
	v := strings.TrimSpace(os.Getenv(name))
	return v, v != ""
}
