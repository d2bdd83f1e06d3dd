package policy_test

import (
	"testing"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
	"ticketportal/testapp"
)

// TicketVisible must agree with PocketBase's own evaluation of the tickets'
// and answers' rules for every caller and every kind of ticket.
func TestTicketVisibleAgreesWithTheRules(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()

	// one more ticket per state, so that every caller meets every state
	col, _ := app.FindCollectionByNameOrId(policy.Tickets)
	for _, status := range []string{policy.StatusActive, policy.StatusClosed} {
		tk := core.NewRecord(col)
		tk.Set("customerId", testapp.OtherCustomerId)
		tk.Set("ticketContent", "extra")
		tk.Set("ticketStatus", status)
		if err := app.Save(tk); err != nil {
			t.Fatal(err)
		}
	}
	tickets, err := app.FindAllRecords(policy.Tickets)
	if err != nil {
		t.Fatal(err)
	}
	callers := map[string]*core.Record{"guest": nil}
	for name, ref := range map[string][2]string{
		"alice": {policy.Users, testapp.CustomerId}, "bob": {policy.Users, testapp.OtherCustomerId},
		"carol (unverified)": {policy.Users, testapp.UnverifiedId},
		"agent1":             {policy.Admins, testapp.AdminId}, "boss": {policy.Admins, testapp.SuperAdminId},
		"operator": {core.CollectionNameSuperusers, testapp.OperatorId},
	} {
		r, err := app.FindRecordById(ref[0], ref[1])
		if err != nil {
			t.Fatal(err)
		}
		callers[name] = r
	}
	answers, _ := app.FindCollectionByNameOrId(policy.Answers)

	checked := 0
	for name, auth := range callers {
		info := &core.RequestInfo{Auth: auth, Context: core.RequestInfoContextRealtime}
		for _, tk := range tickets {
			want, err := app.CanAccessRecord(tk, info, tk.Collection().ListRule)
			if err != nil {
				t.Fatal(err)
			}
			got := policy.TicketVisible(auth, tk.GetString("customerId"), tk.GetString("ticketStatus"))
			if got != want {
				t.Errorf("%s on ticket %s (%s): TicketVisible %v, rule %v", name, tk.Id, tk.GetString("ticketStatus"), got, want)
			}

			// an answer on this ticket follows the answers' rule
			a := core.NewRecord(answers)
			a.Set("ticket", tk.Id)
			a.Set("answer", "probe")
			a.Set("adminId", testapp.AdminId)
			if err := app.Save(a); err != nil {
				t.Fatal(err)
			}
			wantAnswer, err := app.CanAccessRecord(a, info, answers.ListRule)
			if err != nil {
				t.Fatal(err)
			}
			if got != wantAnswer {
				t.Errorf("%s on an answer of ticket %s: TicketVisible %v, answers rule %v", name, tk.Id, got, wantAnswer)
			}
			checked++
		}
	}
	if checked < 40 {
		t.Fatalf("only %d combinations checked", checked)
	}
}
