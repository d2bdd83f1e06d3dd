// Package testapp makes real test apps of the portal: PocketBase's TestApp
// with the portal's migrations, hooks and routes, and a fixed set of
// fixture accounts and tickets so that scenario tables can name them.
package testapp

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/durability"
	"ticketportal/hooks"
	"ticketportal/mail"
	_ "ticketportal/migrations"
	"ticketportal/realtime"
	"ticketportal/routes"
	"ticketportal/server"
)

// Password is the password of every fixture account.
const Password = "correct-horse-1"

var (
	templateOnce sync.Once
	templateDir  string
	templateErr  error
)

// New returns a fresh portal test app, cloned from a migrated and seeded
// data dir that is built once per test binary. The caller (or the
// ApiScenario that receives it) must call app.Cleanup().
func New(t testing.TB) *tests.TestApp {
	t.Helper()
	return NewWithConnect(t, durability.Connect)
}

// NewWithConnect is New with the databases opened by connect (benchmarks
// compare durability.Connect with durability.ConnectUncached).
func NewWithConnect(t testing.TB, connect core.DBConnectFunc) *tests.TestApp {
	t.Helper()
	templateOnce.Do(func() { templateDir, templateErr = buildTemplate() })
	if templateErr != nil {
		t.Fatalf("building the test data dir: %v", templateErr)
	}
	// tests.NewTestApp with the portal's connect (as main.go's).
	app, err := tests.NewTestAppWithConfig(core.BaseAppConfig{
		DataDir:       templateDir,
		EncryptionEnv: "pb_test_env",
		DBConnect:     connect,
	})
	if err != nil {
		t.Fatalf("new test app: %v", err)
	}
	Register(app)
	return app
}

// Factory is an ApiScenario.TestAppFactory: New(t), whose requests each
// return only once the app's background workers are settled (Settle).
// ApiScenario reads the app's hook call counts without a lock right after
// the request; a worker firing a hook then (the outbox sending the mail
// the request queued) wrote that map at the same time, which crashes the
// test binary now and then.
func Factory(t testing.TB) *tests.TestApp {
	app := New(t)
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.BindFunc(func(e *core.RequestEvent) error {
			err := e.Next()
			Settle(app)
			return err
		})
		return se.Next()
	})
	return app
}

// Settle sends the mail that is due now and waits for the passes of the
// outbox and the service-level scheduler under way to end.
func Settle(app core.App) {
	mail.Settle(app)
	hooks.SettleSLAScheduler(app)
}

// Register binds the same hooks and routes as main.go.
func Register(app core.App) {
	hooks.Register(app)
	realtime.Register(app)
	server.Register(app)
	routes.Register(app)
}

// buildTemplate migrates an empty data dir and seeds the fixtures into it.
func buildTemplate() (string, error) {
	dir, err := os.MkdirTemp("", "ticketportal_fixture_")
	if err != nil {
		return "", err
	}
	dataDir := filepath.Join(dir, "pb_data")
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: dataDir, DBConnect: durability.Connect})
	if err := app.Bootstrap(); err != nil {
		return "", err
	}
	defer app.ClearBootstrap()
	hooks.Register(app)
	if err := app.RunAllMigrations(); err != nil {
		return "", err
	}
	if err := seed(app); err != nil {
		return "", err
	}
	return dataDir, nil
}
