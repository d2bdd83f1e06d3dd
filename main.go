// Ticket Portal: a customer-support ticket system built on PocketBase.
package main

import (
	"embed"
	"io/fs"
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
	"ticketportal/inbound"
	"ticketportal/metrics"
	_ "ticketportal/migrations"
	"ticketportal/realtime"
	"ticketportal/replicate"
	"ticketportal/routes"
	"ticketportal/server"
)

// publicFiles are the web pages (pb_public) compiled into the binary, so
// that it serves them from any working directory.
//
//go:embed all:pb_public
var publicFiles embed.FS

func main() {
	// restore runs before PocketBase bootstraps (which would create an
	// empty data.db in the dir to restore into).
	if commands.IsRestore(os.Args) {
		os.Exit(commands.RunRestore(os.Args))
	}

	// data.db commits are fsynced: a ticket answered 201 survives a power loss.
	app := pocketbase.NewWithConfig(pocketbase.Config{DBConnect: durability.Connect})

	// --publicDir is the flag name of PocketBase's own example binary
	// (examples/base); empty (the default) serves the embedded pages.
	// PORTAL_PUBLIC_DIR is the older spelling, still honoured.
	var publicDir string
	app.RootCmd.PersistentFlags().StringVar(&publicDir, "publicDir", os.Getenv("PORTAL_PUBLIC_DIR"),
		"serve the web pages from this directory instead of the ones built into the binary")

	migratecmd.MustRegister(app, app.RootCmd, migratecmd.Config{})
	app.RootCmd.AddCommand(commands.NewSuperadminCommand(app))
	app.RootCmd.AddCommand(commands.NewRestoreCommand())

	hooks.Register(app)
	realtime.Register(app)
	server.Register(app)
	routes.Register(app)
	metrics.Register(app)
	replicate.Register(app, app.RootCmd)
	inbound.Register(app, app.RootCmd)

	// the pages at "/", bound last so that the portal's routes win.
	app.OnServe().Bind(&hook.Handler[*core.ServeEvent]{
		Priority: 999,
		Func: func(se *core.ServeEvent) error {
			if !se.Router.HasRoute(http.MethodGet, "/{path...}") {
				se.Router.GET("/{path...}", apis.Static(pages(publicDir), false))
			}
			return se.Next()
		},
	})

	if err := app.Start(); err != nil {
		log.Fatal(err)
	}
}

// pages is dir when given, else the embedded pb_public.
func pages(dir string) fs.FS {
	if dir != "" {
		return os.DirFS(dir)
	}
	sub, err := fs.Sub(publicFiles, "pb_public")
	if err != nil {
		panic(err) // the directory is compiled in
	}
	return sub
}
