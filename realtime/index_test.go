package realtime_test

import (
	"testing"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/policy"
	"ticketportal/testapp"
)

// Ticket events reach exactly the connections that may see the ticket,
// while connections change their auth midway (a guest that signs in, an
// account updated, a token key changed and a new token), and each
// connection hears its events in the order of the writes.
func TestRealtimeEventsReachExactlyTheirAudienceAsAuthChanges(t *testing.T) {
	app := testapp.New(t)
	url := testapp.Serve(t, app)
	listen := func(token string) *testapp.SSE {
		s := testapp.ConnectSSE(t, url)
		s.MustSubscribe(token, "tickets/*")
		return s
	}
	alice1, alice2 := listen(testapp.Token(t, testapp.Owner)), listen(testapp.Token(t, testapp.Owner))
	bob := listen(testapp.Token(t, testapp.OtherCustomer))
	agent, boss := listen(testapp.Token(t, testapp.Admin)), listen(testapp.Token(t, testapp.SuperAdmin))
	late := listen("") // a guest for now
	all := map[string]*testapp.SSE{"alice1": alice1, "alice2": alice2, "bob": bob, "agent": agent, "boss": boss, "late": late}
	hear := func(action, id string, who ...string) {
		t.Helper()
		for _, name := range who {
			expectRecord(t, all[name], "tickets/*", action, id)
		}
	}
	nobodyElse := func() {
		t.Helper()
		for name, s := range all {
			if ev, ok := s.Next(quiet); ok {
				t.Fatalf("%s heard %s %s, want nothing more", name, ev.Name, ev.Data)
			}
		}
	}
	save := func(r *core.Record) {
		t.Helper()
		if err := app.Save(r); err != nil {
			t.Fatal(err)
		}
	}
	find := func(collection, id string) *core.Record {
		t.Helper()
		r, err := app.FindRecordById(collection, id)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}

	a := newTicket(t, app, testapp.CustomerId)
	hear("create", a, "alice1", "alice2", "agent", "boss")
	nobodyElse()

	// the guest signs in as bob (the only auth change PocketBase allows on
	// a connection): it now hears bob's tickets
	late.MustSubscribe(testapp.Token(t, testapp.OtherCustomer), "tickets/*")
	b := newTicket(t, app, testapp.OtherCustomerId)
	hear("create", b, "bob", "late", "agent", "boss")
	nobodyElse()

	// bob's account is updated (PocketBase swaps the connections' auth for
	// the new record): still bob
	u := find(policy.Users, testapp.OtherCustomerId)
	u.Set("userFirstName", "Robert")
	save(u)
	tb := find(policy.Tickets, b)
	tb.Set("ticketContent", "Still black.")
	save(tb)
	hear("update", b, "bob", "late", "agent", "boss")
	nobodyElse()

	// alice's token key changes (a new password): both her connections
	// become guests and hear nothing; one signs in again with a new token
	alice := find(policy.Users, testapp.CustomerId)
	alice.RefreshTokenKey()
	save(alice)
	token, err := alice.NewAuthToken()
	if err != nil {
		t.Fatal(err)
	}
	alice1.MustSubscribe(testapp.Token(t, testapp.Owner), "tickets/*") // the old token: a guest
	alice2.MustSubscribe(token, "tickets/*")
	ta := find(policy.Tickets, a)
	for _, text := range []string{"one", "two", "three"} { // heard in this order
		ta.Set("ticketContent", text)
		save(ta)
	}
	for _, name := range []string{"alice2", "agent", "boss"} {
		for _, text := range []string{"one", "two", "three"} {
			if r := expectRecord(t, all[name], "tickets/*", "update", a); r["ticketContent"] != text {
				t.Fatalf("%s heard %q, want %q (order of the writes)", name, r["ticketContent"], text)
			}
		}
	}
	nobodyElse()

	// closed: an admin no longer sees it, so hears neither the close nor
	// the delete
	ta.Set("ticketStatus", policy.StatusClosed)
	save(ta)
	hear("update", a, "alice2", "boss")
	nobodyElse()
	if err := app.Delete(ta); err != nil {
		t.Fatal(err)
	}
	hear("delete", a, "alice2", "boss")
	nobodyElse()
	if err := app.Delete(find(policy.Tickets, b)); err != nil {
		t.Fatal(err)
	}
	hear("delete", b, "bob", "late", "agent", "boss")
	nobodyElse()
}
