package policy

import "github.com/pocketbase/pocketbase/core"

// Actions of search and answers. They join the Allowed
// table here, beside the rest of this part's vocabulary.
const (
	SearchTickets  Action = "searchTickets"  // customers their own, admins active, superAdmins all
	SimilarTickets Action = "similarTickets" // staff who may see the ticket
	UseCanned      Action = "useCannedReplies"
	ShareCanned    Action = "shareCannedReplies" // write the shared canned replies
)

func init() {
	Allowed[SearchTickets] = []string{RoleUser, RoleAdmin, RoleSuperAdmin}
	Allowed[SimilarTickets] = []string{RoleAdmin, RoleSuperAdmin}
	Allowed[UseCanned] = []string{RoleAdmin, RoleSuperAdmin}
	Allowed[ShareCanned] = []string{RoleSuperAdmin}
}

// SearchScope is who finds which tickets with /searchTickets, the Go twin
// of TicketsViewRule (and, for the words, MessagesViewRule): a customer
// searches its own tickets in the public index (no note, no customer data),
// an admin the active tickets, a superAdmin and an operator every ticket, in
// the staff index.
type SearchScope struct {
	Staff      bool
	CustomerId string
	ActiveOnly bool
}

// SearchScopeOf is the scope of an authenticated caller; ok is false for a
// caller that may not search.
func SearchScopeOf(auth *core.Record) (SearchScope, bool) {
	switch RoleOf(auth) {
	case RoleUser:
		return SearchScope{CustomerId: auth.Id}, true
	case RoleAdmin:
		return SearchScope{Staff: true, ActiveOnly: true}, true
	case RoleSuperAdmin, RoleOperator:
		return SearchScope{Staff: true}, true
	}
	return SearchScope{}, false
}
