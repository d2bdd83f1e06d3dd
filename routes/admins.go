package routes

import "github.com/pocketbase/pocketbase/core"

// bindAdmins lists the admins routes.
func bindAdmins(se *core.ServeEvent) {
}
