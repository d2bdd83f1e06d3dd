package inbound

import (
	"fmt"
	"os"

	"github.com/pocketbase/pocketbase/core"
	"github.com/spf13/cobra"
)

// Environment variables of the inbound channels.
const (
	SMTPListenEnv = "PORTAL_SMTP_LISTEN"
	IMAPURLEnv    = "PORTAL_IMAP_URL"
	// IMAPInsecureEnv = "1" skips the IMAP server's certificate check
	// (tests, or a server on the same host with a self-signed certificate).
	IMAPInsecureEnv = "PORTAL_IMAP_INSECURE_SKIP_VERIFY"
)

// Register binds inbound mail to app: the processing worker runs while the
// app serves (first processing what an earlier run stored and left), and
// `serve --smtpListen ADDR` / PORTAL_SMTP_LISTEN and PORTAL_IMAP_URL start
// the receivers (both off by default). root may be nil (no flags).
func Register(app core.App, root *cobra.Command) {
	smtpListen := os.Getenv(SMTPListenEnv)
	imapURL := os.Getenv(IMAPURLEnv)
	if root != nil {
		root.PersistentFlags().StringVar(&smtpListen, "smtpListen", smtpListen,
			"receive mail over SMTP on this address (e.g. 127.0.0.1:2525) for the setting inboundAddress; also "+SMTPListenEnv)
	}
	var receiver *SMTPReceiver
	var fetcher *IMAPFetcher
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		workerOf(app).start()
		if smtpListen != "" {
			r, err := ListenSMTP(app, smtpListen)
			if err != nil {
				return fmt.Errorf("--smtpListen %s: %w", smtpListen, err)
			}
			receiver = r
			app.Logger().Info("inbound SMTP receiver listening", "addr", r.Addr)
		}
		if imapURL != "" {
			f, err := StartIMAP(app, imapURL, IMAPOptions{InsecureSkipVerify: os.Getenv(IMAPInsecureEnv) == "1"})
			if err != nil {
				return fmt.Errorf("%s: %w", IMAPURLEnv, err)
			}
			fetcher = f
		}
		return se.Next()
	})
	app.OnTerminate().BindFunc(func(e *core.TerminateEvent) error {
		if receiver != nil {
			_ = receiver.Close()
		}
		if fetcher != nil {
			fetcher.Stop()
		}
		return e.Next()
	})
	app.OnBootstrapClear().BindFunc(func(e *core.BootstrapEvent) error {
		workerOf(app).halt()
		return e.Next()
	})
	// An operator setting a row back to "stored" in the dashboard wakes
	// the worker.
	app.OnRecordAfterUpdateSuccess(Collection).BindFunc(func(e *core.RecordEvent) error {
		workerOf(app).wakeUp()
		return e.Next()
	})
}

// StartWorker runs the processing worker in an app that does not serve (a
// test app).
func StartWorker(app core.App) { workerOf(app).start() }

// StopWorker stops it.
func StopWorker(app core.App) { workerOf(app).halt() }

func sprintf(format string, v ...any) string { return fmt.Sprintf(format, v...) }
func sprintln(v ...any) string               { return fmt.Sprintln(v...) }
