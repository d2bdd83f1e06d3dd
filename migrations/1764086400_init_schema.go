// Package migrations creates and evolves the portal's collections.
package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"

	"ticketportal/policy"
)

const (
	userNamePattern = `^[A-Za-z0-9_.-]+$`
	mobilePattern   = `^[0-9 +()-]+$`
	idPattern       = `^[a-z0-9]+$`
)

// The rules as this migration created them, frozen: later changes of the
// rules are new migrations (policy/rules.go holds the rules in force).
const (
	initAdminsAuthRule    = ``
	initAdminsCreateRule  = `@request.auth.collectionName = "admins" && @request.auth.role = "superAdmin" && @request.body.role = "admin"`
	initAdminsDeleteRule  = `@request.auth.collectionName = "admins" && @request.auth.role = "superAdmin" && role = "admin"`
	initAdminsUpdateRule  = `id = @request.auth.id && @request.body.role:isset = false && @request.body.verified:isset = false`
	initAdminsViewRule    = `@request.auth.collectionName = "admins"`
	initAnswersCreateRule = `@request.auth.collectionName = "admins" && @request.body.adminId = @request.auth.id && ticket.ticketStatus = "active"`
	initAnswersViewRule   = `ticket.customerId = @request.auth.id || (@request.auth.collectionName = "admins" && (@request.auth.role = "superAdmin" || ticket.ticketStatus = "active"))`
	initTicketsCreateRule = `@request.auth.collectionName = "users" && @request.auth.verified = true && @request.body.customerId = @request.auth.id && @request.body.ticketStatus:isset = false && @request.body.isTaken:isset = false && @request.body.takenBy:isset = false && @request.body.isHighPriority:isset = false && @request.body.customerUserName:isset = false && @request.body.userEmail:isset = false && @request.body.markedBy:isset = false`
	initTicketsDeleteRule = `@request.auth.collectionName = "admins" && @request.auth.role = "superAdmin"`
	initTicketsUpdateRule = `@request.auth.collectionName = "admins" && ticketStatus = "active" && @request.body.customerId:isset = false && @request.body.customerUserName:isset = false && @request.body.customerFirstName:isset = false && @request.body.customerLastName:isset = false && @request.body.userEmail:isset = false && @request.body.ticketContent:isset = false && @request.body.isTaken:isset = false && @request.body.markedBy:isset = false && (@request.body.isHighPriority:isset = false || @request.auth.role = "superAdmin") && (@request.body.takenBy:isset = false || (@request.body.takenBy = @request.auth.id && (takenBy = "" || takenBy = @request.auth.id)))`
	initTicketsViewRule   = `customerId = @request.auth.id || (@request.auth.collectionName = "admins" && (@request.auth.role = "superAdmin" || ticketStatus = "active"))`
	initUsersAuthRule     = `verified = true`
	initUsersUpdateRule   = `id = @request.auth.id && @request.body.verified:isset = false`
	initUsersViewRule     = `id = @request.auth.id`
)

func init() {
	m.Register(func(app core.App) error {
		users, err := extendUsers(app)
		if err != nil {
			return err
		}
		admins, err := createAdmins(app)
		if err != nil {
			return err
		}
		tickets, err := createTickets(app, users, admins)
		if err != nil {
			return err
		}
		return createAnswers(app, tickets)
	}, func(app core.App) error {
		for _, name := range []string{"ticketAnswers", policy.Tickets, policy.Admins} {
			c, err := app.FindCollectionByNameOrId(name)
			if err != nil {
				return err
			}
			if err := app.Delete(c); err != nil {
				return err
			}
		}
		return nil
	})
}

// timestamps renames or adds the createdAt/updatedAt autodate fields.
func timestamps(c *core.Collection) {
	for old, name := range map[string]string{"created": "createdAt", "updated": "updatedAt"} {
		if f := c.Fields.GetByName(old); f != nil {
			f.SetName(name)
		}
	}
	if c.Fields.GetByName("createdAt") == nil {
		c.Fields.Add(&core.AutodateField{Name: "createdAt", OnCreate: true})
	}
	if c.Fields.GetByName("updatedAt") == nil {
		c.Fields.Add(&core.AutodateField{Name: "updatedAt", OnCreate: true, OnUpdate: true})
	}
}

// extendUsers turns PocketBase's default users collection into the customers.
func extendUsers(app core.App) (*core.Collection, error) {
	users, err := app.FindCollectionByNameOrId(policy.Users)
	if err != nil {
		return nil, err
	}
	users.Fields.RemoveByName("name")
	users.Fields.RemoveByName("avatar")
	users.Fields.Add(
		&core.TextField{Name: "userName", Required: true, Min: 3, Max: 50, Pattern: userNamePattern, Presentable: true},
		&core.TextField{Name: "userFirstName", Required: true, Min: 1, Max: 100},
		&core.TextField{Name: "userLastName", Required: true, Min: 1, Max: 100},
		&core.TextField{Name: "mobileNumber", Required: true, Min: 6, Max: 20, Pattern: mobilePattern},
	)
	timestamps(users)
	users.AddIndex("idx_users_userName", true, "userName COLLATE NOCASE", "")
	users.PasswordAuth.Enabled = true
	users.PasswordAuth.IdentityFields = []string{"email", "userName"}
	users.OAuth2.Enabled = false

	users.ListRule = types.Pointer(initUsersViewRule)
	users.ViewRule = types.Pointer(initUsersViewRule)
	users.CreateRule = nil // customers sign up through POST /signUp
	users.UpdateRule = types.Pointer(initUsersUpdateRule)
	users.DeleteRule = nil // operators only
	users.AuthRule = types.Pointer(initUsersAuthRule)
	users.ManageRule = nil
	return users, app.Save(users)
}

// createAdmins makes the agents' auth collection.
func createAdmins(app core.App) (*core.Collection, error) {
	admins := core.NewAuthCollection(policy.Admins)
	admins.Fields.Add(
		&core.TextField{Name: "userName", Required: true, Min: 3, Max: 50, Pattern: userNamePattern, Presentable: true},
		&core.SelectField{Name: "role", Required: true, MaxSelect: 1, Values: []string{policy.RoleAdmin, policy.RoleSuperAdmin}},
	)
	timestamps(admins)
	admins.AddIndex("idx_admins_userName", true, "userName COLLATE NOCASE", "")
	admins.PasswordAuth.Enabled = true
	admins.PasswordAuth.IdentityFields = []string{"email", "userName"}

	admins.ListRule = types.Pointer(initAdminsViewRule)
	admins.ViewRule = types.Pointer(initAdminsViewRule)
	admins.CreateRule = types.Pointer(initAdminsCreateRule)
	admins.UpdateRule = types.Pointer(initAdminsUpdateRule)
	admins.DeleteRule = types.Pointer(initAdminsDeleteRule)
	admins.AuthRule = types.Pointer(initAdminsAuthRule)
	admins.ManageRule = nil
	return admins, app.Save(admins)
}

// createTickets makes the tickets collection with the indexes of its lists.
func createTickets(app core.App, users, admins *core.Collection) (*core.Collection, error) {
	tickets := core.NewBaseCollection(policy.Tickets)
	tickets.Fields.Add(
		&core.RelationField{Name: "customerId", CollectionId: users.Id, Required: true, MaxSelect: 1, CascadeDelete: true},
		&core.TextField{Name: "customerUserName", Max: 50},
		&core.TextField{Name: "customerFirstName", Max: 100},
		&core.TextField{Name: "customerLastName", Max: 100},
		&core.EmailField{Name: "userEmail"},
		&core.TextField{Name: "ticketContent", Required: true, Max: 10000},
		&core.BoolField{Name: "isTaken"},
		// takenBy and markedBy keep an admin's id as text so that the history
		// survives the admin's deletion.
		&core.TextField{Name: "takenBy", Max: 15, Pattern: idPattern},
		&core.SelectField{Name: "ticketStatus", Required: true, MaxSelect: 1, Values: []string{policy.StatusActive, policy.StatusClosed}},
		&core.BoolField{Name: "isHighPriority"},
		&core.TextField{Name: "markedBy", Max: 15, Pattern: idPattern, Help: "the account that last took, closed or prioritized the ticket"},
	)
	timestamps(tickets)
	tickets.AddIndex("idx_tickets_customer", false, "customerId, createdAt", "")
	tickets.AddIndex("idx_tickets_queue", false, "ticketStatus, isHighPriority, createdAt", "")

	tickets.ListRule = types.Pointer(initTicketsViewRule)
	tickets.ViewRule = types.Pointer(initTicketsViewRule)
	tickets.CreateRule = types.Pointer(initTicketsCreateRule)
	tickets.UpdateRule = types.Pointer(initTicketsUpdateRule)
	tickets.DeleteRule = types.Pointer(initTicketsDeleteRule)
	return tickets, app.Save(tickets)
}

// createAnswers makes the answers collection: one record an answer, so that
// concurrent answers are separate inserts and none can overwrite another.
func createAnswers(app core.App, tickets *core.Collection) error {
	answers := core.NewBaseCollection("ticketAnswers")
	answers.Fields.Add(
		&core.RelationField{Name: "ticket", CollectionId: tickets.Id, Required: true, MaxSelect: 1, CascadeDelete: true},
		&core.TextField{Name: "answer", Required: true, Max: 10000},
		&core.TextField{Name: "adminId", Required: true, Max: 15, Pattern: idPattern},
	)
	timestamps(answers)
	answers.AddIndex("idx_ticketAnswers_ticket", false, "ticket, createdAt", "")

	answers.ListRule = types.Pointer(initAnswersViewRule)
	answers.ViewRule = types.Pointer(initAnswersViewRule)
	answers.CreateRule = types.Pointer(initAnswersCreateRule)
	answers.UpdateRule = nil
	answers.DeleteRule = nil
	return app.Save(answers)
}
