package testapp

import (
	"strings"
	"sync"
	"testing"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
)

// Fixed ids of the fixture records present in every New app.
const (
	CustomerId      = "customer0000001" // verified customer "alice"
	OtherCustomerId = "customer0000002" // verified customer "bob"
	UnverifiedId    = "customer0000003" // unverified customer "carol"
	AdminId         = "admin0000000001" // agent "agent1"
	OtherAdminId    = "admin0000000002" // agent "agent2"
	SuperAdminId    = "admin0000000003" // head of support "boss"
	OperatorId      = "operator0000001" // PocketBase superuser

	TicketId       = "ticket000000001" // alice's active ticket, no answers, not taken
	TakenTicketId  = "ticket000000002" // alice's active ticket taken by agent2, one answer
	ClosedTicketId = "ticket000000003" // alice's closed ticket
	OtherTicketId  = "ticket000000004" // bob's active ticket, high priority
	AnswerId       = "answer000000001" // agent2's answer on TakenTicketId
)

// Caller is one kind of caller of a route.
type Caller struct {
	Name  string // "anonymous", "owning customer", ...
	Token string // "" for anonymous
}

// Caller kinds, by name.
const (
	Anonymous     = "anonymous"
	Forged        = "forged token"
	Owner         = "owning customer"
	OtherCustomer = "other customer"
	Unverified    = "unverified customer"
	Admin         = "admin"
	SuperAdmin    = "superAdmin"
	Operator      = "operator"
)

var (
	tokensOnce sync.Once
	tokens     map[string]string
)

// Token returns a valid auth token of the fixture caller kind.
func Token(t testing.TB, kind string) string {
	t.Helper()
	tokensOnce.Do(func() {
		app := New(t)
		defer app.Cleanup()
		tokens = map[string]string{Anonymous: "", Forged: forgedToken}
		for kind, ref := range map[string][2]string{
			Owner:         {policy.Users, CustomerId},
			OtherCustomer: {policy.Users, OtherCustomerId},
			Unverified:    {policy.Users, UnverifiedId},
			Admin:         {policy.Admins, AdminId},
			"other admin": {policy.Admins, OtherAdminId},
			SuperAdmin:    {policy.Admins, SuperAdminId},
			Operator:      {core.CollectionNameSuperusers, OperatorId},
		} {
			rec, err := app.FindRecordById(ref[0], ref[1])
			if err != nil {
				t.Fatalf("fixture %s: %v", kind, err)
			}
			tok, err := rec.NewAuthToken()
			if err != nil {
				t.Fatalf("token %s: %v", kind, err)
			}
			tokens[kind] = tok
		}
	})
	tok, ok := tokens[kind]
	if !ok {
		t.Fatalf("unknown caller kind %q", kind)
	}
	return tok
}

// forgedToken is well formed but signed with a key the server never had.
const forgedToken = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJjb2xsZWN0aW9uSWQiOiJfcGJfdXNlcnNfYXV0aF8iLCJleHAiOjQxMDI0NDQ4MDAsImlkIjoiY3VzdG9tZXIwMDAwMDAxIiwicmVmcmVzaGFibGUiOnRydWUsInR5cGUiOiJhdXRoIn0.c2lnbmVkLXdpdGgtYS1rZXktdGhlLXNlcnZlci1uZXZlci1oYWQ"

// Headers returns the request headers of a caller kind.
func Headers(t testing.TB, kind string) map[string]string {
	tok := Token(t, kind)
	if tok == "" {
		return nil
	}
	return map[string]string{"Authorization": "Bearer " + tok}
}

// Callers lists every kind of caller, the owner first.
var Callers = []string{Anonymous, Forged, Owner, OtherCustomer, Admin, SuperAdmin, Operator}

// JSON is a convenience for scenario bodies.
func JSON(s string) *strings.Reader { return strings.NewReader(s) }

// seed writes the fixture records.
func seed(app core.App) error {
	mk := func(collection string, fields map[string]any, setup func(r *core.Record)) error {
		col, err := app.FindCollectionByNameOrId(collection)
		if err != nil {
			return err
		}
		r := core.NewRecord(col)
		r.Load(fields)
		if setup != nil {
			setup(r)
		}
		return app.Save(r)
	}
	account := func(verified bool, email string) func(r *core.Record) {
		return func(r *core.Record) {
			r.SetEmail(email)
			r.SetPassword(Password)
			r.SetVerified(verified)
		}
	}
	steps := []func() error{
		func() error {
			return mk(policy.Users, map[string]any{"id": CustomerId, "userName": "alice", "userFirstName": "Alice", "userLastName": "Adams", "mobileNumber": "+1 555 0100"}, account(true, "alice@example.com"))
		},
		func() error {
			return mk(policy.Users, map[string]any{"id": OtherCustomerId, "userName": "bob", "userFirstName": "Bob", "userLastName": "Brown", "mobileNumber": "+1 555 0101"}, account(true, "bob@example.com"))
		},
		func() error {
			return mk(policy.Users, map[string]any{"id": UnverifiedId, "userName": "carol", "userFirstName": "Carol", "userLastName": "Clark", "mobileNumber": "+1 555 0102"}, account(false, "carol@example.com"))
		},
		func() error {
			return mk(policy.Admins, map[string]any{"id": AdminId, "userName": "agent1", "role": policy.RoleAdmin}, account(true, "agent1@example.com"))
		},
		func() error {
			return mk(policy.Admins, map[string]any{"id": OtherAdminId, "userName": "agent2", "role": policy.RoleAdmin}, account(true, "agent2@example.com"))
		},
		func() error {
			return mk(policy.Admins, map[string]any{"id": SuperAdminId, "userName": "boss", "role": policy.RoleSuperAdmin}, account(true, "boss@example.com"))
		},
		func() error {
			return mk(core.CollectionNameSuperusers, map[string]any{"id": OperatorId}, account(true, "operator@example.com"))
		},
		func() error {
			return mk(policy.Tickets, map[string]any{"id": ClosedTicketId, "customerId": CustomerId, "ticketContent": "My invoice was wrong.", "ticketStatus": policy.StatusClosed}, nil)
		},
		func() error {
			return mk(policy.Tickets, map[string]any{"id": TakenTicketId, "customerId": CustomerId, "ticketContent": "The app crashes on start.", "takenBy": OtherAdminId}, nil)
		},
		func() error {
			return mk(policy.Tickets, map[string]any{"id": OtherTicketId, "customerId": OtherCustomerId, "ticketContent": "I cannot log in.", "isHighPriority": true}, nil)
		},
		func() error {
			return mk(policy.Tickets, map[string]any{"id": TicketId, "customerId": CustomerId, "ticketContent": "How do I export my data?"}, nil)
		},
		func() error {
			return mk(policy.Messages, map[string]any{"id": AnswerId, "ticket": TakenTicketId, "kind": policy.KindAnswer, "body": "Please reinstall the app.", "authorId": OtherAdminId}, nil)
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	// The fixture answer queued its mail like any answer; no test expects a
	// mail it did not cause, so the fixtures start with an empty outbox.
	_, err := app.DB().NewQuery("DELETE FROM mailOutbox").Execute()
	return err
}
