// Package server binds what the portal's HTTP server does for every
// request and at its end: the security headers, request logs without
// secrets, and a graceful shutdown.
package server

import "github.com/pocketbase/pocketbase/core"

// Register binds the headers and the shutdown to app.
func Register(app core.App) {
	bindHeaders(app)
	bindShutdown(app)
}
