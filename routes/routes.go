// Package routes holds the portal's custom HTTP routes.
package routes

import (
	"github.com/pocketbase/pocketbase/core"
)

// Register binds every custom route of the portal to app's router.
func Register(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		return se.Next()
	})
}
