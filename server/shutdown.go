package server

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
)

// ShutdownGrace is how long a stopping server (SIGTERM, Ctrl-C) lets the
// requests under way finish. It stays below the 10 s that Docker and most
// process managers wait before they send SIGKILL.
const ShutdownGrace = 8 * time.Second

func bindShutdown(app core.App) {
	var (
		mu     sync.Mutex
		server *http.Server
	)
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		mu.Lock()
		server = se.Server // nil in test servers
		mu.Unlock()
		if se.Server != nil {
			// Realtime streams never go idle: end them once the listener is
			// closed, so that shutting down does not wait for them.
			se.Server.RegisterOnShutdown(func() {
				broker := se.App.SubscriptionsBroker()
				for _, c := range broker.Clients() {
					broker.Unregister(c.Id())
				}
			})
		}
		return se.Next()
	})

	// PocketBase's own shutdown hook (priority -9999) first cancels every
	// request's context and then gives the server only one second. This one
	// runs before it: it closes the listener, ends the realtime streams
	// (see above), then lets the other requests under way finish, up to
	// ShutdownGrace, while new connections are refused.
	app.OnTerminate().Bind(&hook.Handler[*core.TerminateEvent]{
		Id:       "portalGracefulShutdown",
		Priority: -10000,
		Func: func(te *core.TerminateEvent) error {
			mu.Lock()
			srv := server
			mu.Unlock()
			// A restart (after a backup restore) is PocketBase's own dance:
			// its hook keeps serve from returning until execve, which an
			// early Shutdown here would defeat.
			if srv != nil && !te.IsRestart {
				ctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
				if err := srv.Shutdown(ctx); err != nil {
					te.App.Logger().Warn("requests still running at shutdown were cut off", "error", err)
				}
				cancel()
			}
			return te.Next()
		},
	})
}
