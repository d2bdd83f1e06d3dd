package inbound_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/inbound"
	"ticketportal/mail"
	"ticketportal/policy"
	"ticketportal/settings"
	"ticketportal/testapp"
)

var replyToRe = regexp.MustCompile(`^<?support\+([a-z0-9]{15})\.([0-9a-f]{12})@example\.com>?$`)

// The answer mail is threaded and signed; the customer's reply by mail
// lands on the ticket as a reply, with the quoted answer cut, once.
func TestReplyByMailThreadsOntoItsTicket(t *testing.T) {
	e := newEnv(t)
	first := answer(t, e.app, testapp.TicketId, "Use Settings > Export.")
	if first.Subject != "[#"+testapp.TicketId+"] How do I export my data?" {
		t.Errorf("subject %q", first.Subject)
	}
	if first.Headers["Message-ID"] != "<"+first.MessageId+">" || first.MessageId == "" {
		t.Errorf("Message-ID header %q, stored %q", first.Headers["Message-ID"], first.MessageId)
	}
	m := replyToRe.FindStringSubmatch(first.Headers["Reply-To"])
	if m == nil || m[1] != testapp.TicketId {
		t.Fatalf("Reply-To %q", first.Headers["Reply-To"])
	}
	if !strings.HasPrefix(first.Text, mail.ReplyMarker) {
		t.Errorf("the text does not start with the marker: %q", first.Text)
	}
	second := answer(t, e.app, testapp.TicketId, "Or use the API.")
	if second.Headers["In-Reply-To"] != "<"+first.MessageId+">" || !strings.Contains(second.Headers["References"], first.MessageId) {
		t.Errorf("the second answer is not threaded: %v", second.Headers)
	}
	if second.MessageId == first.MessageId {
		t.Error("two mails share a Message-ID")
	}
	replyTo := strings.Trim(first.Headers["Reply-To"], "<>")

	raw := mailText(`"Alice Adams" <alice@example.com>`, replyTo, "Re: "+first.Subject, "reply1@mail.example.org",
		"In-Reply-To: <"+second.MessageId+">\nReferences: <"+first.MessageId+"> <"+second.MessageId+">",
		"Thanks, that worked!\n\nOn Tue, 1 Dec 2026 at 10:00, Support <support@example.com> wrote:\n> "+mail.ReplyMarker+"\n> Or use the API.\n")
	e.mustSend(t, "alice@example.com", []string{replyTo}, raw)
	// the same mail again (a relay retrying) adds nothing
	e.mustSend(t, "alice@example.com", []string{replyTo}, raw)

	msgs := messages(t, e.app, testapp.TicketId)
	replies := 0
	for _, m := range msgs {
		if m.Kind == policy.KindReply {
			replies++
			if m.Body != "Thanks, that worked!" || m.AuthorId != testapp.CustomerId {
				t.Errorf("reply %+v", m)
			}
		}
	}
	if replies != 1 {
		t.Fatalf("%d replies, want 1: %+v", replies, msgs)
	}
	rows := inbox(t, e.app)
	if len(rows) != 1 || rows[0].State != inbound.StateProcessed || rows[0].Outcome != inbound.OutcomeReply || rows[0].Ticket != testapp.TicketId {
		t.Errorf("inbox %+v", rows)
	}
	ev := historyEvents(t, e.app, testapp.TicketId)
	if !contains(ev, policy.EventMailReceived) || !contains(ev, policy.EventReplied) {
		t.Errorf("history %v", ev)
	}
	tk, _ := e.app.FindRecordById(policy.Tickets, testapp.TicketId)
	if tk.GetString("waitingOn") != policy.WaitingOnAgent {
		t.Errorf("waitingOn %q", tk.GetString("waitingOn"))
	}
	// the next answer threads onto the customer's mail too
	third := answer(t, e.app, testapp.TicketId, "Glad to hear.")
	if third.Headers["In-Reply-To"] != "<reply1@mail.example.org>" {
		t.Errorf("In-Reply-To %q", third.Headers["In-Reply-To"])
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Routing without the signed address: In-Reply-To alone, and the [#id]
// subject from the ticket's customer; a reply to a closed ticket reopens it
// as a portal reply does.
func TestRoutingByThreadAndSubject(t *testing.T) {
	e := newEnv(t)
	a := answer(t, e.app, testapp.TicketId, "An answer.")
	e.mustSend(t, "alice@example.com", []string{supportAddr},
		mailText("alice@example.com", supportAddr, "Re: whatever", "r1@x", "In-Reply-To: <"+a.MessageId+">", "By thread."))
	e.mustSend(t, "alice@example.com", []string{supportAddr},
		mailText("alice@example.com", supportAddr, "Re: [#"+testapp.ClosedTicketId+"] My invoice", "r2@x", "", "By subject."))
	// bob names alice's ticket in the subject: not routed there, a new ticket of his
	e.mustSend(t, "bob@example.com", []string{supportAddr},
		mailText("bob@example.com", supportAddr, "[#"+testapp.TicketId+"] hijack", "r3@x", "", "Not yours."))
	// bob replies to alice's thread: refused
	e.mustSend(t, "bob@example.com", []string{supportAddr},
		mailText("bob@example.com", supportAddr, "Re: x", "r4@x", "In-Reply-To: <"+a.MessageId+">", "Not yours either."))

	if got := messages(t, e.app, testapp.TicketId); len(got) != 2 || got[1].Body != "By thread." {
		t.Errorf("ticket 1: %+v", got)
	}
	if got := messages(t, e.app, testapp.ClosedTicketId); len(got) != 1 || got[0].Body != "By subject." {
		t.Errorf("closed ticket: %+v", got)
	}
	closed, _ := e.app.FindRecordById(policy.Tickets, testapp.ClosedTicketId)
	if closed.GetString("ticketStatus") != policy.StatusActive {
		t.Error("the reply by mail did not reopen the closed ticket")
	}
	rows := inbox(t, e.app)
	if rows[2].Outcome != inbound.OutcomeNewTicket || rows[2].Ticket == testapp.TicketId {
		t.Errorf("bob's [#id] mail: %+v", rows[2])
	}
	if rows[3].State != inbound.StateRefused {
		t.Errorf("bob's reply in alice's thread: %+v", rows[3])
	}
}

// A forged signature does not reach the ticket; a third party writing to
// the valid signed address becomes a note naming them, never seen by the
// customer.
func TestForgedSignatureAndThirdPartyNote(t *testing.T) {
	e := newEnv(t)
	a := answer(t, e.app, testapp.OtherTicketId, "Hello Bob.")
	valid := strings.Trim(a.Headers["Reply-To"], "<>")
	sig, _ := mail.Signature(e.app, testapp.TicketId)
	forgedSig := "000000000000"
	if sig == forgedSig {
		forgedSig = "111111111111"
	}
	forged := "support+" + testapp.TicketId + "." + forgedSig + "@example.com"
	e.mustSend(t, "mallory@evil.example", []string{forged},
		mailText("mallory@evil.example", forged, "hi", "f1@x", "", "Let me in."))
	// a plus address of another ticket's signature does not work either
	otherSig := strings.Replace(valid, testapp.OtherTicketId, testapp.TicketId, 1)
	e.mustSend(t, "alice@example.com", []string{otherSig},
		mailText("alice@example.com", otherSig, "hi", "f2@x", "", "Swapped id."))
	if got := messages(t, e.app, testapp.TicketId); len(got) != 0 {
		t.Errorf("a forged address reached the ticket: %+v", got)
	}
	rows := inbox(t, e.app)
	for _, r := range rows {
		if r.State != inbound.StateRefused {
			t.Errorf("forged: %+v", r)
		}
	}

	e.mustSend(t, "colleague@partner.example", []string{valid},
		mailText(`"Carl Colleague" <colleague@partner.example>`, valid, "Re: "+a.Subject, "n1@x", "", "Bob's account is on our side.\n-- \nCarl\nPartner Inc."))
	got := messages(t, e.app, testapp.OtherTicketId)
	last := got[len(got)-1]
	if last.Kind != policy.KindNote || !strings.Contains(last.Body, "Carl Colleague <colleague@partner.example>") ||
		!strings.Contains(last.Body, "Bob's account is on our side.") || strings.Contains(last.Body, "Partner Inc.") {
		t.Errorf("note %+v", last)
	}
	// the customer does not see it through the record API
	srv := testapp.Serve(t, e.app)
	status, body := testapp.Call(t, http.MethodGet, srv+"/api/collections/messages/records?filter=ticket='"+testapp.OtherTicketId+"'", testapp.Token(t, testapp.OtherCustomer), "")
	if status != 200 || strings.Contains(string(body), "Carl") {
		t.Errorf("customer sees the note: %d %s", status, body)
	}
}

// An unknown sender opens a ticket and gets a password-less, unverified
// customer account named after the display name; "forgot password" then
// sets a password and verifies it.
func TestUnknownSenderOpensATicketAndCanSetAPassword(t *testing.T) {
	e := newEnv(t)
	e.mustSend(t, "dora@new.example", []string{supportAddr},
		mailText(`"Dora Diaz" <Dora@New.example>`, supportAddr, "Printer on fire", "new1@x", "", "It is on fire."))
	u, err := e.app.FindAuthRecordByEmail(policy.Users, "dora@new.example")
	if err != nil {
		t.Fatal(err)
	}
	if u.Verified() || u.GetString("userFirstName") != "Dora" || u.GetString("userLastName") != "Diaz" {
		t.Errorf("account %v", u.PublicExport())
	}
	tickets, _ := e.app.FindRecordsByFilter(policy.Tickets, "customerId = {:c}", "", 0, 0, map[string]any{"c": u.Id})
	if len(tickets) != 1 || tickets[0].GetString("ticketSubject") != "Printer on fire" || tickets[0].GetString("ticketContent") != "It is on fire." {
		t.Fatalf("tickets %v", tickets)
	}
	if ev := historyEvents(t, e.app, tickets[0].Id); !contains(ev, policy.EventCreated) || !contains(ev, policy.EventMailReceived) {
		t.Errorf("history %v", ev)
	}
	// forgot password → reset → verified, can log in
	srv := testapp.Serve(t, e.app)
	if status, body := testapp.Call(t, http.MethodPost, srv+"/forgetPassword", "", `{"email":"dora@new.example"}`); status != 200 {
		t.Fatalf("forgetPassword %d %s", status, body)
	}
	token, err := u.NewPasswordResetToken()
	if err != nil {
		t.Fatal(err)
	}
	if status, body := testapp.Call(t, http.MethodPost, srv+"/resetPassword", "", fmt.Sprintf(`{"token":%q,"password":"a-new-password-1","confirmPassword":"a-new-password-1"}`, token)); status != 200 {
		t.Fatalf("resetPassword %d %s", status, body)
	}
	u, _ = e.app.FindRecordById(policy.Users, u.Id)
	if !u.Verified() || !u.ValidatePassword("a-new-password-1") {
		t.Error("the reset did not verify the account or set the password")
	}
}

// inboundNewTickets: customers → only known customers; off → nobody. At
// most 20 new tickets per sender per hour.
func TestNewTicketSettingsAndRate(t *testing.T) {
	e := newEnv(t, func(s *settings.Settings) { s.InboundNewTickets = settings.InboundCustomers })
	e.mustSend(t, "stranger@x.example", []string{supportAddr}, mailText("stranger@x.example", supportAddr, "hi", "c1@x", "", "Hello"))
	e.mustSend(t, "bob@example.com", []string{supportAddr}, mailText("bob@example.com", supportAddr, "hi", "c2@x", "", "Hello"))
	rows := inbox(t, e.app)
	if rows[0].State != inbound.StateRefused || rows[1].Outcome != inbound.OutcomeNewTicket {
		t.Errorf("customers: %+v", rows)
	}
	// an agent's own address opens nothing (and makes no customer)
	e.mustSend(t, "agent1@example.com", []string{supportAddr}, mailText("agent1@example.com", supportAddr, "hi", "c2b@x", "", "Hello"))
	if rows := inbox(t, e.app); rows[2].State != inbound.StateRefused || !strings.Contains(rows[2].Detail, "staff") {
		t.Errorf("staff sender: %+v", rows[2])
	}
	if _, err := e.app.FindAuthRecordByEmail(policy.Users, "stranger@x.example"); err == nil {
		t.Error("an account was made for a stranger with inboundNewTickets=customers")
	}
	setSettings(t, e.app, func(s *settings.Settings) { s.InboundNewTickets = settings.InboundOff })
	e.mustSend(t, "bob@example.com", []string{supportAddr}, mailText("bob@example.com", supportAddr, "hi", "c3@x", "", "Hello"))
	if rows := inbox(t, e.app); rows[3].State != inbound.StateRefused {
		t.Errorf("off: %+v", rows[3])
	}
	// replies still work with off
	e.mustSend(t, "bob@example.com", []string{supportAddr}, mailText("bob@example.com", supportAddr, "[#"+testapp.OtherTicketId+"]", "c4@x", "", "A reply"))
	if rows := inbox(t, e.app); rows[4].Outcome != inbound.OutcomeReply {
		t.Errorf("reply with off: %+v", rows[4])
	}

	setSettings(t, e.app, func(s *settings.Settings) { s.InboundNewTickets = settings.InboundAnyone })
	for i := range 22 {
		if err := e.send("flood@x.example", []string{supportAddr}, mailText("flood@x.example", supportAddr, fmt.Sprint("n", i), fmt.Sprintf("flood%d@x", i), "", "spam")); err != nil {
			t.Fatal(err)
		}
	}
	inbound.ProcessStored(e.app)
	n := 0
	for _, r := range inbox(t, e.app)[5:] {
		if r.Outcome == inbound.OutcomeNewTicket {
			n++
		}
	}
	if n != inbound.MaxNewTicketsPerHour {
		t.Errorf("%d tickets from one sender in an hour", n)
	}
}

// Automatic mail is ignored; a bounce marks our mail failed in the history.
func TestAutomaticMailAndBounces(t *testing.T) {
	e := newEnv(t)
	cases := []struct{ name, from, envFrom, headers string }{
		{"auto-replied", "alice@example.com", "alice@example.com", "Auto-Submitted: auto-replied"},
		{"bulk", "news@x.example", "news@x.example", "Precedence: bulk"},
		{"list", "list@x.example", "list@x.example", "Precedence: list"},
		{"empty return path", "alice@example.com", "", ""},
		{"our own sender", "noreply@example.com", "noreply@example.com", ""},
		{"our inbound address", supportAddr, supportAddr, ""},
	}
	for i, c := range cases {
		e.mustSend(t, c.envFrom, []string{supportAddr}, mailText(c.from, supportAddr, "Re: [#"+testapp.TicketId+"]", fmt.Sprintf("auto%d@x", i), c.headers, "I am away."))
	}
	rows := inbox(t, e.app)
	for i, r := range rows {
		if r.State != inbound.StateIgnored || r.Outcome != inbound.OutcomeAutomatic {
			t.Errorf("%s: %+v", cases[i].name, r)
		}
	}
	if got := messages(t, e.app, testapp.TicketId); len(got) != 0 {
		t.Errorf("automatic mail reached the ticket: %+v", got)
	}
	// Auto-Submitted: no is a person
	e.mustSend(t, "alice@example.com", []string{supportAddr}, mailText("alice@example.com", supportAddr, "Re: [#"+testapp.TicketId+"]", "person@x", "Auto-Submitted: no", "A person."))
	if got := messages(t, e.app, testapp.TicketId); len(got) != 1 {
		t.Errorf("Auto-Submitted: no was ignored")
	}

	a := answer(t, e.app, testapp.TicketId, "An answer to a dead mailbox.")
	bounce := "From: MAILER-DAEMON@mx.example\nTo: noreply@example.com\nSubject: Undelivered Mail Returned to Sender\nMessage-ID: <bounce1@mx.example>\n" +
		"MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"BB\"\n\n" +
		"--BB\nContent-Type: text/plain\n\nThe mail to alice@example.com could not be delivered: mailbox unknown.\n" +
		"--BB\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example\n\nFinal-Recipient: rfc822; alice@example.com\nAction: failed\nStatus: 5.1.1\n" +
		"--BB\nContent-Type: text/rfc822-headers\n\nFrom: noreply@example.com\nTo: alice@example.com\nSubject: " + a.Subject + "\nMessage-ID: <" + a.MessageId + ">\n\n" +
		"--BB--\n"
	e.mustSend(t, "", []string{supportAddr}, bounce)
	rows = inbox(t, e.app)
	if last := rows[len(rows)-1]; last.Outcome != inbound.OutcomeBounce {
		t.Errorf("bounce: %+v", last)
	}
	for _, m := range outbox(t, e.app) {
		if m.Id == a.Id && m.Status != mail.StatusFailed {
			t.Errorf("the bounced mail is %s", m.Status)
		}
	}
	if ev := historyEvents(t, e.app, testapp.TicketId); !contains(ev, policy.EventMailFailed) {
		t.Errorf("no mailFailed line: %v", ev)
	}
}

// The receiver refuses other recipients (550) and messages over 25 MiB
// (552), and counts what it stores.
func TestReceiverLimits(t *testing.T) {
	e := newEnv(t)
	err := e.send("x@y.example", []string{"someone@else.example"}, mailText("x@y.example", "someone@else.example", "hi", "l1@x", "", "hi"))
	if smtpCode(err) != 550 {
		t.Errorf("other recipient: %v", err)
	}
	err = e.send("x@y.example", []string{"support@other.example"}, mailText("x@y.example", "support@other.example", "hi", "l2@x", "", "hi"))
	if smtpCode(err) != 550 {
		t.Errorf("other domain: %v", err)
	}
	big := mailText("x@y.example", supportAddr, "big", "l3@x", "", strings.Repeat(strings.Repeat("a", 999)+"\n", 26<<10))
	if err := e.send("x@y.example", []string{supportAddr}, big); smtpCode(err) != 552 {
		t.Errorf("26 MiB: %v", err)
	}
	if rows := inbox(t, e.app); len(rows) != 0 {
		t.Errorf("stored %+v", rows)
	}
	// plus-tagged without a signature is the plain address
	if err := e.send("x@y.example", []string{"Support+Sales@Example.com"}, mailText("x@y.example", "support+sales@example.com", "hi", "l4@x", "", "hi")); err != nil {
		t.Errorf("tagged: %v", err)
	}
}

// Auto-reply: with autoReply on, every new ticket (route, mail, record API)
// queues "we have your ticket" in the create's transaction, threaded.
func TestAutoReply(t *testing.T) {
	e := newEnv(t, func(s *settings.Settings) { s.AutoReply = true })
	srv := testapp.Serve(t, e.app)
	status, body := testapp.Call(t, http.MethodPost, srv+"/sendTicket", testapp.Token(t, testapp.Owner), `{"ticketContent":"Need help","ticketSubject":"Help"}`)
	if status != 201 {
		t.Fatalf("sendTicket %d %s", status, body)
	}
	e.mustSend(t, "bob@example.com", []string{supportAddr}, mailText("bob@example.com", supportAddr, "By mail", "ar1@x", "", "Hello"))
	status, body = testapp.Call(t, http.MethodPost, srv+"/api/collections/tickets/records", testapp.Token(t, testapp.Owner),
		`{"customerId":"`+testapp.CustomerId+`","ticketContent":"Through the record API"}`)
	if status != 200 {
		t.Fatalf("record API create %d %s", status, body)
	}
	mails := outbox(t, e.app)
	if len(mails) != 3 {
		t.Fatalf("%d mails queued for 3 new tickets", len(mails))
	}
	for _, m := range mails {
		if m.Ticket == "" || !strings.HasPrefix(m.Subject, "[#"+m.Ticket+"]") || m.Headers["Auto-Submitted"] != "auto-replied" || m.Headers["Reply-To"] == "" {
			t.Errorf("auto-reply %+v", m)
		}
	}
	// off: none
	setSettings(t, e.app, func(s *settings.Settings) { s.AutoReply = false })
	testapp.Call(t, http.MethodPost, srv+"/sendTicket", testapp.Token(t, testapp.Owner), `{"ticketContent":"Again"}`)
	if n := len(outbox(t, e.app)); n != 3 {
		t.Errorf("autoReply off queued a mail (%d)", n)
	}
	// a ticket whose create fails queues nothing (same transaction)
	col, _ := e.app.FindCollectionByNameOrId(policy.Tickets)
	bad := core.NewRecord(col)
	bad.Set("customerId", testapp.CustomerId)
	setSettings(t, e.app, func(s *settings.Settings) { s.AutoReply = true })
	if err := e.app.Save(bad); err == nil {
		t.Fatal("a ticket without content was saved")
	}
	if n := len(outbox(t, e.app)); n != 3 {
		t.Errorf("a failed create left a mail (%d)", n)
	}
}

// An HTML-only reply (Gmail style, quoted answer in a blockquote, a script)
// lands as plain text without the quote.
func TestHTMLReplyLandsAsText(t *testing.T) {
	e := newEnv(t)
	a := answer(t, e.app, testapp.TicketId, "Try again.")
	replyTo := strings.Trim(a.Headers["Reply-To"], "<>")
	raw := "From: Alice <alice@example.com>\nTo: " + replyTo + "\nSubject: Re: " + a.Subject + "\nMessage-ID: <h1@x>\nMIME-Version: 1.0\n" +
		"Content-Type: text/html; charset=utf-8\n\n" +
		`<div dir="ltr">It <b>still</b> fails<script>fetch("/steal")</script></div><br><div class="gmail_quote"><div class="gmail_attr">On Tue, Dec 1, 2026 at 10:00 AM Support &lt;support@example.com&gt; wrote:<br></div><blockquote class="gmail_quote">` + mail.ReplyMarker + `<br>Try again.</blockquote></div>` + "\n"
	e.mustSend(t, "alice@example.com", []string{replyTo}, raw)
	got := messages(t, e.app, testapp.TicketId)
	if last := got[len(got)-1]; last.Kind != policy.KindReply || last.Body != "It still fails" {
		t.Errorf("reply %+v", last)
	}
}
