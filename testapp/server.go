package testapp

import (
	"net/http/httptest"
	"testing"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
)

// Serve starts a real HTTP server (loopback) on app with the portal's routes,
// as `serve` would build it, and returns its base URL. Server and app are
// closed when the test ends.
func Serve(t testing.TB, app *tests.TestApp) string {
	t.Helper()
	r, err := apis.NewRouter(app)
	if err != nil {
		t.Fatal(err)
	}
	se := &core.ServeEvent{App: app, Router: r}
	var srv *httptest.Server
	err = app.OnServe().Trigger(se, func(e *core.ServeEvent) error {
		mux, err := e.Router.BuildMux()
		if err != nil {
			return err
		}
		srv = httptest.NewServer(mux)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// realtime connections stay open until their clients go; drop them
		for _, c := range app.SubscriptionsBroker().Clients() {
			app.SubscriptionsBroker().Unregister(c.Id())
		}
		srv.CloseClientConnections()
		srv.Close()
		app.Cleanup()
	})
	return srv.URL
}
