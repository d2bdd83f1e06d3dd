// Package routes holds the portal's custom HTTP routes, at the original
// system's paths.
package routes

import (
	"github.com/pocketbase/pocketbase/core"
)

// Register binds every custom route of the portal to app's router.
func Register(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		bindAccounts(se)
		bindTickets(se)
		bindConversation(se)
		bindSettings(se)
		bindAdmins(se)
		return se.Next()
	})
}
