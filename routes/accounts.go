package routes

import "github.com/pocketbase/pocketbase/core"

// bindAccounts lists the accounts routes.
func bindAccounts(se *core.ServeEvent) {
}
