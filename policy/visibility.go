package policy

import "github.com/pocketbase/pocketbase/core"

// TicketVisible says in Go what TicketsViewRule (and, for a ticket's
// answers, AnswersViewRule) says as a filter: a customer sees its own
// tickets, an agent the active ones, a superAdmin and an operator all.
//
// It exists for the realtime fan-out, which has to decide for thousands of
// subscribers per event: one rule query each would take seconds. It is used
// only while a collection's rule is still exactly the rule above (an
// operator who edits the rule in the dashboard gets the query again), and
// visibility_test.go checks it against PocketBase's evaluation of the rule
// for every kind of caller and ticket.
func TicketVisible(auth *core.Record, customerId, status string) bool {
	switch RoleOf(auth) {
	case RoleOperator, RoleSuperAdmin:
		return true
	case RoleAdmin:
		return status == StatusActive
	case RoleUser:
		return customerId != "" && auth.Id == customerId
	}
	return false
}
