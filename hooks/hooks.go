// Package hooks holds the record hooks that keep the portal's data
// consistent whatever path writes it: custom routes, PocketBase's record
// API, the dashboard, the batch API. The realtime engine is in package
// realtime, the HTTP server's headers and shutdown in package server.
package hooks

import (
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/mail"
	"ticketportal/settings"
)

// Register binds every hook of the portal to app.
func Register(app core.App) {
	bindAccounts(app)
	bindAccountRules(app)
	bindThrottles(app)
	settings.Register(app)
	bindTickets(app)
	bindConversation(app)
	bindFiles(app)
	bindRecordLists(app)
	bindSLA(app)
	bindCounts(app)
	bindAdmins(app)
	bindIntegrity(app)
	bindSettings(app)
	mail.RegisterOutbox(app) // mails queued in a write go out after its commit
}
