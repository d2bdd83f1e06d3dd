package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// Canned replies: answers an agent
// keeps to paste. Shared ones are the team's and only superAdmins write
// them; personal ones are their owner's. Customers never see any.
// The rules are literals: this migration is history (policy/rules.go holds
// the rules in force).
const (
	// Staff read the shared replies and their own.
	cannedViewRule = `@request.auth.collectionName = "admins" && (shared = true || ownerId = @request.auth.id)`
	// Staff add replies in their own name; only a superAdmin adds a shared one.
	cannedCreateRule = `@request.auth.collectionName = "admins" && @request.body.ownerId = @request.auth.id` +
		` && (@request.body.shared != true || @request.auth.role = "superAdmin")`
	// The owner edits its personal reply, a superAdmin the shared ones; only a
	// superAdmin shares a reply; the owner never changes.
	cannedUpdateRule = `@request.auth.collectionName = "admins" && @request.body.ownerId:isset = false` +
		` && ((shared = false && ownerId = @request.auth.id) || (shared = true && @request.auth.role = "superAdmin"))` +
		` && (@request.body.shared != true || @request.auth.role = "superAdmin")`
	// The same callers delete them.
	cannedDeleteRule = `@request.auth.collectionName = "admins"` +
		` && ((shared = false && ownerId = @request.auth.id) || (shared = true && @request.auth.role = "superAdmin"))`
)

func init() {
	m.Register(func(app core.App) error {
		c := core.NewBaseCollection("cannedReplies")
		c.Fields.Add(
			&core.TextField{Name: "title", Required: true, Max: 100},
			&core.TextField{Name: "body", Required: true, Max: 10000},
			&core.BoolField{Name: "shared"},
			&core.TextField{Name: "ownerId", Required: true, Max: 15, Pattern: idPattern, Help: "the account that wrote it"},
			&core.AutodateField{Name: "createdAt", OnCreate: true},
			&core.AutodateField{Name: "updatedAt", OnCreate: true, OnUpdate: true},
		)
		c.AddIndex("idx_cannedReplies_owner", false, "ownerId, title", "")
		c.ListRule = types.Pointer(cannedViewRule)
		c.ViewRule = types.Pointer(cannedViewRule)
		c.CreateRule = types.Pointer(cannedCreateRule)
		c.UpdateRule = types.Pointer(cannedUpdateRule)
		c.DeleteRule = types.Pointer(cannedDeleteRule)
		return app.Save(c)
	}, func(app core.App) error {
		c, err := app.FindCollectionByNameOrId("cannedReplies")
		if err != nil {
			return err
		}
		return app.Delete(c)
	})
}
