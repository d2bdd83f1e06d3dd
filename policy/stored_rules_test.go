package policy_test

import (
	"testing"

	"ticketportal/policy"
	"ticketportal/testapp"
)

// The migrations store exactly the rules policy/rules.go names (a rule
// change is a new migration plus the new constant), and nil where only
// operators may act.
func TestStoredRulesAreThePolicy(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	s := func(v string) *string { return &v }
	want := map[string][5]*string{ // list, view, create, update, delete
		policy.Users:          {s(policy.UsersViewRule), s(policy.UsersViewRule), nil, s(policy.UsersUpdateRule), nil},
		policy.Admins:         {s(policy.AdminsViewRule), s(policy.AdminsViewRule), s(policy.AdminsCreateRule), s(policy.AdminsUpdateRule), s(policy.AdminsDeleteRule)},
		policy.Tickets:        {s(policy.TicketsViewRule), s(policy.TicketsViewRule), s(policy.TicketsCreateRule), s(policy.TicketsUpdateRule), s(policy.TicketsDeleteRule)},
		policy.Messages:       {s(policy.MessagesViewRule), s(policy.MessagesViewRule), s(policy.MessagesCreateRule), nil, nil},
		policy.History:        {s(policy.HistoryViewRule), s(policy.HistoryViewRule), nil, nil, nil},
		policy.PortalSettings: {nil, nil, nil, nil, nil},
	}
	names := []string{"list", "view", "create", "update", "delete"}
	for name, rules := range want {
		c, err := app.FindCollectionByNameOrId(name)
		if err != nil {
			t.Fatal(err)
		}
		got := [5]*string{c.ListRule, c.ViewRule, c.CreateRule, c.UpdateRule, c.DeleteRule}
		for i := range got {
			switch {
			case (got[i] == nil) != (rules[i] == nil):
				t.Errorf("%s %s rule: stored %v, policy %v", name, names[i], got[i], rules[i])
			case got[i] != nil && *got[i] != *rules[i]:
				t.Errorf("%s %s rule:\nstored %s\npolicy %s", name, names[i], *got[i], *rules[i])
			}
		}
	}
}
