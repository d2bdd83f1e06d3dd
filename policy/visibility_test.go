package policy_test

import (
	"testing"

	"github.com/pocketbase/dbx"
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
	messages, _ := app.FindCollectionByNameOrId(policy.Messages)

	checked := 0
	for name, auth := range callers {
		info := &core.RequestInfo{Auth: auth, Context: core.RequestInfoContextRealtime}
		for _, tk := range tickets {
			// a reply below may have reopened the ticket: read its state now
			tk, err := app.FindRecordById(policy.Tickets, tk.Id)
			if err != nil {
				t.Fatal(err)
			}
			want, err := app.CanAccessRecord(tk, info, tk.Collection().ListRule)
			if err != nil {
				t.Fatal(err)
			}
			got := policy.TicketVisible(auth, tk.GetString("customerId"), tk.GetString("ticketStatus"))
			// the record API's narrowing filter never hides a visible ticket
			if narrow := policy.ListNarrowing(auth, policy.Tickets); got && narrow != "" {
				if _, err := app.FindFirstRecordByFilter(policy.Tickets, "id = {:id} && "+narrow, dbx.Params{"id": tk.Id}); err != nil {
					t.Errorf("%s: ticket %s is visible but does not match %s", name, tk.Id, narrow)
				}
			}
			if got != want {
				t.Errorf("%s on ticket %s (%s): TicketVisible %v, rule %v", name, tk.Id, tk.GetString("ticketStatus"), got, want)
			}

			// a message of each kind on this ticket follows the messages' rule
			for _, kind := range []string{policy.KindAnswer, policy.KindReply, policy.KindNote} {
				m := core.NewRecord(messages)
				m.Set("ticket", tk.Id)
				m.Set("kind", kind)
				m.Set("body", "probe")
				m.Set("authorId", testapp.SuperAdminId)
				if err := app.SaveNoValidate(m); err != nil {
					t.Fatal(err)
				}
				wantMessage, err := app.CanAccessRecord(m, info, messages.ListRule)
				if err != nil {
					t.Fatal(err)
				}
				tk, err := app.FindRecordById(policy.Tickets, tk.Id)
				if err != nil {
					t.Fatal(err)
				}
				gotMessage := policy.MessageVisible(auth, tk.GetString("customerId"), tk.GetString("ticketStatus"), kind)
				if narrow := policy.ListNarrowing(auth, policy.Messages); gotMessage && narrow != "" {
					if _, err := app.FindFirstRecordByFilter(policy.Messages, "id = {:id} && "+narrow, dbx.Params{"id": m.Id}); err != nil {
						t.Errorf("%s: message %s is visible but does not match %s", name, m.Id, narrow)
					}
				}
				if gotMessage != wantMessage {
					t.Errorf("%s on a %s of ticket %s (%s): MessageVisible %v, messages rule %v", name, kind, tk.Id, tk.GetString("ticketStatus"), gotMessage, wantMessage)
				}
				if kind == policy.KindNote && gotMessage && !policy.IsStaff(auth) {
					t.Errorf("%s sees a note", name)
				}
				checked++
			}
		}
	}
	if checked < 120 {
		t.Fatalf("only %d combinations checked", checked)
	}
}
