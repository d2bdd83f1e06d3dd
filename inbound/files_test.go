package inbound_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/pocketbase/dbx"

	"ticketportal/policy"
	"ticketportal/settings"
	"ticketportal/testapp"
)

// a 1x1 PNG
var pngBytes, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")

func multipartMail(from, subject, messageId, inReplyTo string, parts ...string) string {
	return "From: " + from + "\nTo: " + supportAddr + "\nSubject: " + subject + "\nMessage-ID: <" + messageId + ">\n" +
		"In-Reply-To: <" + inReplyTo + ">\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n" +
		"--b1\n" + strings.Join(parts, "\n--b1\n") + "\n--b1--\n"
}

func textPart(body string) string {
	return "Content-Type: text/plain; charset=utf-8\n\n" + body
}

func filePart(contentType, disposition, name string, data []byte) string {
	return "Content-Type: " + contentType + "; name=\"" + name + "\"\nContent-Disposition: " + disposition + "; filename=\"" + name + "\"\n" +
		"Content-Transfer-Encoding: base64\n\n" + base64.StdEncoding.EncodeToString(data)
}

func storedFiles(t *testing.T, e *env, ticketId, kind string) []string {
	t.Helper()
	rows, err := e.app.FindRecordsByFilter(policy.Messages, "ticket = {:t} && kind = {:k}", "createdAt", 0, 0, dbx.Params{"t": ticketId, "k": kind})
	if err != nil || len(rows) == 0 {
		t.Fatalf("no %s on the ticket: %v", kind, err)
	}
	return rows[len(rows)-1].GetStringSlice("attachments")
}

// A reply by mail keeps its attachments and inline images as the reply's
// files; files past the settings' limits are not kept, and the text says so.
func TestMailAttachmentsBecomeTheMessagesFiles(t *testing.T) {
	e := newEnv(t, func(s *settings.Settings) { s.MaxAttachments = 2 })
	a := answer(t, e.app, testapp.TicketId, "An answer.")
	e.mustSend(t, "alice@example.com", []string{supportAddr}, multipartMail("alice@example.com", "Re: it", "files1@x", a.MessageId,
		textPart("Here is the screenshot and the log."),
		filePart("image/png", "inline", "screen.png", pngBytes),
		filePart("application/pdf", "attachment", "invoice.pdf", []byte("%PDF-1.4 fake")),
		filePart("text/x-log", "attachment", "app.log", []byte("line 1\nline 2\n")),
	))
	files := storedFiles(t, e, testapp.TicketId, policy.KindReply)
	if len(files) != 2 || !strings.HasPrefix(files[0], "screen") || !strings.HasPrefix(files[1], "invoice") {
		t.Fatalf("the reply's files: %v", files)
	}
	got := messages(t, e.app, testapp.TicketId)
	last := got[len(got)-1].Body
	if !strings.HasPrefix(last, "Here is the screenshot and the log.") || !strings.Contains(last, "not kept") || !strings.Contains(last, "app.log") {
		t.Errorf("the reply's text: %q", last)
	}
}

// A reply with a file and no text of its own is kept; a new ticket by mail
// keeps its files on the ticket.
func TestMailWithOnlyAFileAndNewTicketWithFiles(t *testing.T) {
	e := newEnv(t)
	a := answer(t, e.app, testapp.TicketId, "An answer.")
	e.mustSend(t, "alice@example.com", []string{supportAddr}, multipartMail("alice@example.com", "Re: it", "files2@x", a.MessageId,
		filePart("image/png", "attachment", "only.png", pngBytes)))
	if files := storedFiles(t, e, testapp.TicketId, policy.KindReply); len(files) != 1 {
		t.Errorf("a files-only reply: %v", files)
	}

	e.mustSend(t, "dora@new.example", []string{supportAddr}, multipartMail("dora@new.example", "Broken screen", "files3@x", "none@x",
		textPart("See the photo."), filePart("image/png", "attachment", "photo.png", pngBytes)))
	rows := inbox(t, e.app)
	ticket, err := e.app.FindRecordById(policy.Tickets, rows[len(rows)-1].Ticket)
	if err != nil {
		t.Fatalf("the new ticket: %v (%+v)", err, rows[len(rows)-1])
	}
	if files := ticket.GetStringSlice("attachments"); len(files) != 1 || !strings.HasPrefix(files[0], "photo") {
		t.Errorf("the new ticket's files: %v", files)
	}
}
