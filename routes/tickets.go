package routes

import "github.com/pocketbase/pocketbase/core"

// bindTickets lists the tickets routes.
func bindTickets(se *core.ServeEvent) {
}
