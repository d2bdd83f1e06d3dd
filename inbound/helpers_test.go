package inbound_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/inbound"
	"ticketportal/policy"
	"ticketportal/settings"
	"ticketportal/testapp"
)

const supportAddr = "support@example.com"

// env is a test app with inbound mail on: inboundAddress set, the SMTP
// receiver on a loopback port, the outbox sending to a test SMTP server.
type env struct {
	app  *tests.TestApp
	addr string // the receiver
	out  *testapp.SMTPServer
}

func newEnv(t *testing.T, change ...func(*settings.Settings)) *env {
	t.Helper()
	return newEnvTB(t, change...)
}

func newEnvTB(t testing.TB, change ...func(*settings.Settings)) *env {
	t.Helper()
	app := testapp.New(t)
	t.Cleanup(app.Cleanup)
	inbound.Register(app, nil)
	app.Settings().Meta.SenderAddress = "noreply@example.com"
	out := testapp.StartSMTP(t)
	out.Use(t, app)
	setSettings(t, app, func(s *settings.Settings) {
		s.InboundAddress = supportAddr
		for _, c := range change {
			c(s)
		}
	})
	r, err := inbound.ListenSMTP(app, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return &env{app: app, addr: r.Addr, out: out}
}

func setSettings(t testing.TB, app core.App, change func(*settings.Settings)) {
	t.Helper()
	r, err := app.FindRecordById(settings.Collection, settings.RecordId)
	if err != nil {
		t.Fatal(err)
	}
	s := settings.FromRecord(r)
	change(&s)
	settings.ToRecord(s, r)
	if err := app.Save(r); err != nil {
		t.Fatal(err)
	}
	settings.Invalidate(app)
}

// send delivers raw over SMTP from envelope sender from to rcpts and returns
// the server's error (nil for 250).
func (e *env) send(from string, rcpts []string, raw string) error {
	return sendSMTP(e.addr, from, rcpts, raw)
}

// sendSMTP is one SMTP transaction with a real client (no TLS: loopback).
func sendSMTP(addr, from string, rcpts []string, raw string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("client.example"); err != nil {
		return err
	}
	return transact(c, from, rcpts, raw)
}

func transact(c *smtp.Client, from string, rcpts []string, raw string) error {
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	for _, r := range rcpts {
		if err := c.Rcpt(r, nil); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(strings.ReplaceAll(raw, "\n", "\r\n"))); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

func (e *env) mustSend(t *testing.T, from string, rcpts []string, raw string) {
	t.Helper()
	if err := e.send(from, rcpts, raw); err != nil {
		t.Fatalf("SMTP: %v", err)
	}
	inbound.ProcessStored(e.app)
}

func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// mailText builds a simple text mail.
func mailText(from, to, subject, messageId, extraHeaders, body string) string {
	if extraHeaders != "" {
		extraHeaders += "\n"
	}
	return fmt.Sprintf("From: %s\nTo: %s\nSubject: %s\nMessage-ID: <%s>\nDate: Tue, 01 Dec 2026 10:00:00 +0000\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n%s\n%s",
		from, to, subject, messageId, extraHeaders, body)
}

type message struct {
	Kind, Body, AuthorId, AuthorName string
}

func messages(t *testing.T, app core.App, ticketId string) []message {
	t.Helper()
	var out []message
	rows, err := app.FindRecordsByFilter(policy.Messages, "ticket = {:t}", "createdAt", 0, 0, dbx.Params{"t": ticketId})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		out = append(out, message{r.GetString("kind"), r.GetString("body"), r.GetString("authorId"), r.GetString("authorName")})
	}
	return out
}

func historyEvents(t *testing.T, app core.App, ticketId string) []string {
	t.Helper()
	var out []string
	rows, err := app.FindRecordsByFilter(policy.History, "ticket = {:t}", "at", 0, 0, dbx.Params{"t": ticketId})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		out = append(out, r.GetString("event"))
	}
	return out
}

// inboxRow is one inboundMail row.
type inboxRow struct {
	State, Outcome, Detail, Ticket string
}

func inbox(t *testing.T, app core.App) []inboxRow {
	t.Helper()
	rows, err := app.FindRecordsByFilter(inbound.Collection, "", "createdAt", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []inboxRow
	for _, r := range rows {
		out = append(out, inboxRow{r.GetString("state"), r.GetString("outcome"), r.GetString("detail"), r.GetString("ticket")})
	}
	return out
}

// outboxMail is one queued mail with its headers.
type outboxMail struct {
	Id, Ticket, MessageId, Status, Subject string
	Headers                                map[string]string
	Text                                   string
}

func outbox(t *testing.T, app core.App) []outboxMail {
	t.Helper()
	var rows []struct {
		Id        string `db:"id"`
		Ticket    string `db:"ticket"`
		MessageId string `db:"messageId"`
		Status    string `db:"status"`
		Subject   string `db:"subject"`
		Message   string `db:"message"`
	}
	if err := app.DB().NewQuery("SELECT id, ticket, messageId, status, subject, message FROM mailOutbox ORDER BY createdAt, rowid").All(&rows); err != nil {
		t.Fatal(err)
	}
	var out []outboxMail
	for _, r := range rows {
		var m struct {
			Headers map[string]string `json:"headers"`
			Text    string            `json:"text"`
		}
		_ = json.Unmarshal([]byte(r.Message), &m)
		out = append(out, outboxMail{r.Id, r.Ticket, r.MessageId, r.Status, r.Subject, m.Headers, m.Text})
	}
	return out
}

// answer stores an agent's answer on a ticket (its hook queues the mail)
// and returns the queued mail.
func answer(t *testing.T, app core.App, ticketId, body string) outboxMail {
	t.Helper()
	col, _ := app.FindCollectionByNameOrId(policy.Messages)
	m := core.NewRecord(col)
	m.Set("ticket", ticketId)
	m.Set("kind", policy.KindAnswer)
	m.Set("body", body)
	m.Set("authorId", testapp.AdminId)
	if err := app.Save(m); err != nil {
		t.Fatal(err)
	}
	all := outbox(t, app)
	if len(all) == 0 {
		t.Fatal("the answer queued no mail")
	}
	return all[len(all)-1]
}

func waitFor(t *testing.T, what string, timeout time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
