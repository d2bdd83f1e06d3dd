package policy_test

import (
	"testing"

	"ticketportal/policy"
	"ticketportal/testapp"
)

// The canned replies' stored rules are policy/rules.go's.
func TestStoredCannedRulesAreThePolicy(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	c, err := app.FindCollectionByNameOrId(policy.CannedReplies)
	if err != nil {
		t.Fatal(err)
	}
	for name, pair := range map[string][2]*string{
		"list":   {c.ListRule, ptr(policy.CannedViewRule)},
		"view":   {c.ViewRule, ptr(policy.CannedViewRule)},
		"create": {c.CreateRule, ptr(policy.CannedCreateRule)},
		"update": {c.UpdateRule, ptr(policy.CannedUpdateRule)},
		"delete": {c.DeleteRule, ptr(policy.CannedDeleteRule)},
	} {
		if pair[0] == nil || *pair[0] != *pair[1] {
			t.Errorf("%s rule: stored %v, policy %s", name, pair[0], *pair[1])
		}
	}
}

func ptr(s string) *string { return &s }
