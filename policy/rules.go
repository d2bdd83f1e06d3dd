package policy

// API rules of the collections, as PocketBase filter expressions. A nil rule
// (see the migration) means "operators only"; PocketBase superusers skip
// every rule. PocketBase itself already refuses a change of `email` or
// `verified` and a password change without `oldPassword` from anyone without
// manage access, and issues no token to an account failing AuthRule.
const (
	// A customer sees only its own account.
	UsersViewRule = `id = @request.auth.id`
	// A customer edits only its own profile and never its verified flag
	// (emails change through the confirmation mail, passwords with oldPassword).
	UsersUpdateRule = `id = @request.auth.id && @request.body.verified:isset = false`
	// Only verified customers get a token.
	UsersAuthRule = `verified = true`

	// Agents see each other (a ticket shows who holds it); emails stay hidden
	// unless the account shows them.
	AdminsViewRule = `@request.auth.collectionName = "admins"`
	// Only a superAdmin adds agents, and only plain agents.
	AdminsCreateRule = `@request.auth.collectionName = "admins" && @request.auth.role = "superAdmin" && @request.body.role = "admin"`
	// An agent edits only its own account and never its role or verified flag.
	AdminsUpdateRule = `id = @request.auth.id && @request.body.role:isset = false && @request.body.verified:isset = false`
	// Only a superAdmin removes agents, and never a superAdmin.
	AdminsDeleteRule = `@request.auth.collectionName = "admins" && @request.auth.role = "superAdmin" && role = "admin"`
	// Every agent account may log in.
	AdminsAuthRule = ``

	// A customer sees its own tickets, an agent the active queue, a
	// superAdmin everything.
	// (Each branch has its own indexed condition, so SQLite can search an
	// index per branch; migration 1764200510.)
	TicketsViewRule = `customerId = @request.auth.id` +
		` || (ticketStatus = "active" && @request.auth.collectionName = "admins")` +
		` || (ticketStatus = "closed" && @request.auth.collectionName = "admins" && @request.auth.role = "superAdmin")`
	// A verified customer sends tickets in its own name only (with an optional
	// subject); the handling fields and the copied customer data are set by
	// the server.
	TicketsCreateRule = `@request.auth.collectionName = "users" && @request.auth.verified = true && @request.body.customerId = @request.auth.id` +
		` && @request.body.ticketStatus:isset = false && @request.body.isTaken:isset = false && @request.body.takenBy:isset = false` +
		` && @request.body.isHighPriority:isset = false && @request.body.customerUserName:isset = false && @request.body.userEmail:isset = false` +
		` && @request.body.markedBy:isset = false && @request.body.waitingOn:isset = false && @request.body.takenByName:isset = false` +
		` && @request.body.tags:isset = false && @request.body.followUpOf:isset = false && @request.body.rating:isset = false` +
		` && @request.body.ratingComment:isset = false && @request.body.closedAt:isset = false && @request.body.lastMessageAt:isset = false`
	// Agents handle active tickets only: they may close them, tag them and
	// take them for themselves when nobody else holds them; only a superAdmin
	// flags high priority. Nobody changes a ticket's content, its customer or
	// the fields the server keeps (waitingOn, takenByName, closedAt, ...).
	TicketsUpdateRule = `@request.auth.collectionName = "admins" && ticketStatus = "active"` +
		` && @request.body.customerId:isset = false && @request.body.customerUserName:isset = false` +
		` && @request.body.customerFirstName:isset = false && @request.body.customerLastName:isset = false` +
		` && @request.body.userEmail:isset = false && @request.body.ticketContent:isset = false` +
		` && @request.body.isTaken:isset = false && @request.body.markedBy:isset = false` +
		` && @request.body.ticketSubject:isset = false && @request.body.waitingOn:isset = false && @request.body.takenByName:isset = false` +
		` && @request.body.followUpOf:isset = false && @request.body.rating:isset = false && @request.body.ratingComment:isset = false` +
		` && @request.body.closedAt:isset = false && @request.body.lastMessageAt:isset = false` +
		` && (@request.body.isHighPriority:isset = false || @request.auth.role = "superAdmin")` +
		` && (@request.body.takenBy:isset = false || (@request.body.takenBy = @request.auth.id && (takenBy = "" || takenBy = @request.auth.id)))`
	// Only a superAdmin deletes tickets (their answers go with them).
	TicketsDeleteRule = `@request.auth.collectionName = "admins" && @request.auth.role = "superAdmin"`

	// Messages are seen by whoever may see their ticket, notes by staff only.
	MessagesViewRule = `(ticket.customerId = @request.auth.id && kind != "note")` +
		` || (ticket.ticketStatus = "active" && @request.auth.collectionName = "admins")` +
		` || (ticket.ticketStatus = "closed" && @request.auth.collectionName = "admins" && @request.auth.role = "superAdmin")`
	// A customer replies on its own tickets; staff answer active tickets and
	// note on them (a superAdmin on any); always in one's own name. Messages
	// are never edited or deleted on their own (nil update and delete rules).
	MessagesCreateRule = `@request.body.authorId = @request.auth.id && @request.body.authorName:isset = false && (` +
		`(@request.auth.collectionName = "users" && @request.auth.verified = true && @request.body.kind = "reply" && ticket.customerId = @request.auth.id)` +
		` || (@request.auth.collectionName = "admins" && ticket.ticketStatus = "active" && (@request.body.kind = "answer" || @request.body.kind = "note"))` +
		` || (@request.auth.collectionName = "admins" && @request.auth.role = "superAdmin" && @request.body.kind = "note"))`

	// The history is for staff who may see the ticket; it is written by the
	// record hooks only (nil create, update and delete rules).
	HistoryViewRule = `@request.auth.collectionName = "admins" && (@request.auth.role = "superAdmin" || ticket.ticketStatus = "active")`
)
