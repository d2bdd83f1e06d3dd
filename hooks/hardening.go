package hooks

import (
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/mail"
)

// bindHardening binds what keeps the portal safe to run: the mail outbox
// worker, the security headers, token-free request logs and the graceful
// shutdown. Throttling is PocketBase's rate limiter, configured in the
// settings by the migration 1764087400_rate_limits.go.
func bindHardening(app core.App) {
	mail.RegisterOutbox(app)
	bindHeaders(app)
	bindShutdown(app)
}
