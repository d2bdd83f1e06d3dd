// Ticket Portal: a customer-support ticket system built on PocketBase.
package main

import (
	"log"
	"net/http"
	"os"

	"github.com/pocketbase/pocketbase"
	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/plugins/migratecmd"
	"github.com/pocketbase/pocketbase/tools/hook"

	"ticketportal/commands"
	"ticketportal/durability"
	"ticketportal/hooks"
	_ "ticketportal/migrations"
	"ticketportal/routes"
)

func main() {
	// data.db commits are fsynced: a ticket answered 201 survives a power loss.
	app := pocketbase.NewWithConfig(pocketbase.Config{DBConnect: durability.Connect})

	migratecmd.MustRegister(app, app.RootCmd, migratecmd.Config{})
	app.RootCmd.AddCommand(commands.NewSuperadminCommand(app))

	hooks.Register(app)
	routes.Register(app)

	// pb_public at "/", bound last so that the portal's routes win.
	app.OnServe().Bind(&hook.Handler[*core.ServeEvent]{
		Priority: 999,
		Func: func(se *core.ServeEvent) error {
			if !se.Router.HasRoute(http.MethodGet, "/{path...}") {
				se.Router.GET("/{path...}", apis.Static(os.DirFS(publicDir()), false))
			}
			return se.Next()
		},
	})

	if err := app.Start(); err != nil {
		log.Fatal(err)
	}
}

// publicDir is ./pb_public, or PORTAL_PUBLIC_DIR when set.
func publicDir() string {
	if dir := os.Getenv("PORTAL_PUBLIC_DIR"); dir != "" {
		return dir
	}
	return "./pb_public"
}
