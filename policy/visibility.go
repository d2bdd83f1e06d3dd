package policy

import (
	"regexp"

	"github.com/pocketbase/pocketbase/core"
)

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

// ListNarrowing is the record API list filter that every record a caller
// may see already matches, for the tickets and messages collections: a
// customer's own tickets (customerId), an agent's active ones. The record
// API's list of those collections gets it ANDed to the caller's filter
// (hooks/record_lists.go): it can never widen what the rule lets through,
// and it gives SQLite a condition it can serve from an index. The rules
// themselves cannot: PocketBase builds their SQL once per request with the
// caller's values as bound parameters, so a rule's role branches
// ("customerId = me || (an agent && ...)") stay an OR that SQLite can only
// answer by scanning the table. "" = no narrowing (superAdmins, operators,
// guests, other collections). visibility_test.go checks that every record a
// rule shows matches it.
func ListNarrowing(auth *core.Record, collection string) string {
	field := map[string]string{Tickets: "", Messages: "ticket."}
	prefix, ok := field[collection]
	if !ok {
		return ""
	}
	switch RoleOf(auth) {
	case RoleUser:
		if !idPattern.MatchString(auth.Id) {
			return ""
		}
		return prefix + `customerId = "` + auth.Id + `"`
	case RoleAdmin:
		return prefix + `ticketStatus = "active"`
	}
	return ""
}

var idPattern = regexp.MustCompile(`^[a-z0-9]+$`)
