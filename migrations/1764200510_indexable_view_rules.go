package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
	"github.com/pocketbase/pocketbase/tools/types"
)

// The tickets' and messages' view rules, rewritten so that every branch of
// their OR has a condition on an indexed column of its own (customerId, or
// ticketStatus with the role): SQLite then answers a record API list with
// one index search per branch (MULTI-INDEX OR) instead of scanning every
// ticket. The meaning is unchanged (ticketStatus is active or closed):
// a customer sees its own tickets, an agent the active ones, a superAdmin
// all. The record API's lists also get the caller's narrowing filter
// (policy.ListNarrowing), which lets SQLite read one index in order.
const (
	idxTicketsViewRule = `customerId = @request.auth.id` +
		` || (ticketStatus = "active" && @request.auth.collectionName = "admins")` +
		` || (ticketStatus = "closed" && @request.auth.collectionName = "admins" && @request.auth.role = "superAdmin")`
	idxMessagesViewRule = `(ticket.customerId = @request.auth.id && kind != "note")` +
		` || (ticket.ticketStatus = "active" && @request.auth.collectionName = "admins")` +
		` || (ticket.ticketStatus = "closed" && @request.auth.collectionName = "admins" && @request.auth.role = "superAdmin")`
)

func init() {
	m.Register(func(app core.App) error {
		return setViewRules(app, idxTicketsViewRule, idxMessagesViewRule)
	}, func(app core.App) error {
		return setViewRules(app, initTicketsViewRule, convMessagesViewRule)
	})
}

func setViewRules(app core.App, tickets, messages string) error {
	for name, rule := range map[string]string{"tickets": tickets, "messages": messages} {
		c, err := app.FindCollectionByNameOrId(name)
		if err != nil {
			return err
		}
		c.ListRule = types.Pointer(rule)
		c.ViewRule = types.Pointer(rule)
		if err := app.Save(c); err != nil {
			return err
		}
	}
	return nil
}
