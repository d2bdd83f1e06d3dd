package inbound_test

import (
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/inbound"
	"ticketportal/policy"
	"ticketportal/testapp"
)

var fastIMAP = inbound.IMAPOptions{InsecureSkipVerify: true, MinBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond}

func storedState(app core.App, messageId string) string {
	var state string
	_ = app.DB().Select("state").From(inbound.Collection).Where(dbx.HashExp{"messageId": messageId}).Row(&state)
	return state
}

func imapMail(id, body string) string {
	return mailText("alice@example.com", supportAddr, "Re: [#"+testapp.TicketId+"] export", id, "Return-Path: <alice@example.com>", body)
}

// A message is flagged \Seen only once the inbox holds it: while storing
// fails, it stays unseen; IDLE picks a new mail up within 5 s, and it
// lands on its ticket.
func TestIMAPSeenOnlyAfterStorageAndIdle(t *testing.T) {
	e := newEnv(t)
	d := startDovecot(t)
	inbound.StartWorker(e.app)
	t.Cleanup(func() { inbound.StopWorker(e.app) })
	d.deliver(t, crlf(imapMail("imap1@x", "First by IMAP.")))

	// storing fails: the inbox table is away
	if _, err := e.app.DB().NewQuery("ALTER TABLE inboundMail RENAME TO inboundMail_away").Execute(); err != nil {
		t.Fatal(err)
	}
	f, err := inbound.StartIMAP(e.app, d.url(), fastIMAP)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Stop)
	waitFor(t, "a failed attempt", 10*time.Second, func() bool { return f.LastError() != "" })
	time.Sleep(500 * time.Millisecond) // a few more attempts
	if d.seen(t)["imap1@x"] {
		t.Fatal("the message was flagged seen although it could not be stored")
	}
	if _, err := e.app.DB().NewQuery("ALTER TABLE inboundMail_away RENAME TO inboundMail").Execute(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the first mail processed", 10*time.Second, func() bool { return storedState(e.app, "imap1@x") == inbound.StateProcessed })
	waitFor(t, "the first mail flagged seen", 5*time.Second, func() bool { return d.seen(t)["imap1@x"] })

	// IDLE: a new mail is stored within 5 s
	time.Sleep(300 * time.Millisecond) // the fetcher is idling now
	began := time.Now()
	d.deliver(t, crlf(imapMail("imap2@x", "Second by IMAP.")))
	waitFor(t, "the second mail", 5*time.Second, func() bool { return storedState(e.app, "imap2@x") != "" })
	t.Logf("IDLE: stored %s after delivery", time.Since(began).Round(time.Millisecond))
	waitFor(t, "the second mail processed", 5*time.Second, func() bool { return storedState(e.app, "imap2@x") == inbound.StateProcessed })

	n := 0
	for _, m := range messages(t, e.app, testapp.TicketId) {
		if m.Kind == policy.KindReply {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d replies on the ticket, want 2", n)
	}
}

// The IMAP server going away and coming back: the fetcher reconnects (with
// backoff) and fetches what arrived meanwhile; without IDLE it polls.
func TestIMAPServerGoesAwayAndComesBack(t *testing.T) {
	e := newEnv(t)
	d := startDovecot(t)
	for _, opts := range []inbound.IMAPOptions{fastIMAP, {InsecureSkipVerify: true, NoIdle: true, PollInterval: 300 * time.Millisecond, MinBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond}} {
		f, err := inbound.StartIMAP(e.app, d.url(), opts)
		if err != nil {
			t.Fatal(err)
		}
		tag := "idle"
		if opts.NoIdle {
			tag = "poll"
		}
		d.deliver(t, crlf(imapMail(tag+"-before@x", "before "+tag)))
		waitFor(t, "the mail before the outage", 10*time.Second, func() bool { return storedState(e.app, tag+"-before@x") != "" })

		d.stop(t)
		d.deliver(t, crlf(imapMail(tag+"-during@x", "during "+tag)))
		time.Sleep(700 * time.Millisecond) // a few failed reconnects
		if storedState(e.app, tag+"-during@x") != "" {
			t.Fatal("stored while the server was down?")
		}
		if f.LastError() == "" {
			t.Error("no error recorded while the server was down")
		}
		d.start(t)
		waitFor(t, "the mail delivered during the outage", 15*time.Second, func() bool { return storedState(e.app, tag+"-during@x") != "" })
		waitFor(t, "flagged seen", 5*time.Second, func() bool { s := d.seen(t); return s[tag+"-during@x"] && s[tag+"-before@x"] })
		f.Stop()
	}
}

func crlf(s string) string {
	out := make([]byte, 0, len(s)+64)
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' && (i == 0 || s[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, s[i])
	}
	return string(out)
}
