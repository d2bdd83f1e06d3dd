package mail

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"

	"ticketportal/policy"
	"ticketportal/settings"
)

// Ticket mails: every mail
// about a ticket (the answer, the auto-reply, the rating mail) goes through
// QueueTicketMail, which gives it
//   - the subject "[#<ticketId>] <ticketSubject>";
//   - a unique Message-ID, stored with the mail in the outbox (column
//     messageId, with the ticket's id in column ticket), so that a reply's
//     In-Reply-To/References and a bounce find the ticket and the mail;
//   - In-Reply-To (the ticket's newest mail, ours or the customer's) and
//     References (its first mail and the newest ones) so that the customer's
//     mail program shows one thread per ticket;
//   - when the setting inboundAddress is set, Reply-To
//     <local>+<ticketId>.<signature>@<domain>, and the marker line
//     ReplyMarker at the top of the text, above everything the reply quotes.
//
// The signature is the first 12 hex digits (48 bits) of HMAC-SHA256 of the
// ticket id under a 256-bit key made at the first migration and kept in the
// table _portalMailKey (no collection, no API): only the server can make a
// valid reply address, so one cannot be guessed for another ticket.

// ReplyMarker is the line above the quoted text of a ticket mail; inbound
// processing cuts a reply there.
const ReplyMarker = "Reply above this line to add to your ticket."

// signatureLen is the length of the reply address's signature in hex digits.
const signatureLen = 12

const keyStoreKey = "ticketportal.mailKey"

// key is the server's signing key (read once per app).
func key(app core.App) ([]byte, error) {
	if k, ok := app.Store().Get(keyStoreKey).([]byte); ok {
		return k, nil
	}
	var hexKey string
	if err := app.DB().NewQuery("SELECT key FROM _portalMailKey WHERE id = 1").Row(&hexKey); err != nil {
		return nil, fmt.Errorf("reading the reply address key: %w", err)
	}
	k, err := hex.DecodeString(hexKey)
	if err != nil || len(k) < 16 {
		return nil, errors.New("the reply address key is not valid")
	}
	app.Store().Set(keyStoreKey, k)
	return k, nil
}

// Signature is the keyed hash of a ticket id in its reply address.
func Signature(app core.App, ticketId string) (string, error) {
	k, err := key(app)
	if err != nil {
		return "", err
	}
	h := hmac.New(sha256.New, k)
	h.Write([]byte("reply-to:" + ticketId))
	return hex.EncodeToString(h.Sum(nil))[:signatureLen], nil
}

// ReplyAddress is the signed reply address of a ticket, "" when the
// setting inboundAddress is empty.
func ReplyAddress(app core.App, ticketId string) (string, error) {
	inbound := settings.Get(app).InboundAddress
	if inbound == "" {
		return "", nil
	}
	local, domain, ok := strings.Cut(inbound, "@")
	if !ok {
		return "", nil
	}
	sig, err := Signature(app, ticketId)
	if err != nil {
		return "", err
	}
	return local + "+" + ticketId + "." + sig + "@" + domain, nil
}

// AddressKind says what an inbound recipient is.
type AddressKind int

const (
	NotOurs      AddressKind = iota // another address
	Plain                           // inboundAddress itself, or with a tag that is no ticket's
	SignedValid                     // <local>+<ticketId>.<signature> with the right signature
	SignedForged                    // <local>+<ticketId>.<signature> with a wrong one
)

// ParseRecipient sorts one recipient address against inboundAddress; for a
// signed address it returns the ticket id.
func ParseRecipient(app core.App, addr string) (AddressKind, string) {
	inbound := strings.ToLower(settings.Get(app).InboundAddress)
	if inbound == "" {
		return NotOurs, ""
	}
	inLocal, inDomain, _ := strings.Cut(inbound, "@")
	addr = strings.ToLower(strings.Trim(strings.TrimSpace(addr), "<>"))
	local, domain, ok := strings.Cut(addr, "@")
	if !ok || domain != inDomain {
		return NotOurs, ""
	}
	base, tag, tagged := strings.Cut(local, "+")
	if base != inLocal {
		return NotOurs, ""
	}
	if !tagged {
		return Plain, ""
	}
	id, sig, ok := strings.Cut(tag, ".")
	if !ok || id == "" || sig == "" {
		return Plain, ""
	}
	want, err := Signature(app, id)
	if err != nil {
		return SignedForged, id
	}
	if hmac.Equal([]byte(want), []byte(sig)) {
		return SignedValid, id
	}
	return SignedForged, id
}

// MessageIdDomain is the right-hand side of the portal's Message-IDs: the
// inbound address's domain, else the sender address's, else "ticketportal".
func MessageIdDomain(app core.App) string {
	for _, a := range []string{settings.Get(app).InboundAddress, app.Settings().Meta.SenderAddress} {
		if _, d, ok := strings.Cut(a, "@"); ok && d != "" {
			return strings.ToLower(d)
		}
	}
	return "ticketportal"
}

// NewMessageId makes a unique Message-ID (without the <>).
func NewMessageId(app core.App) string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "tp." + hex.EncodeToString(b) + "@" + MessageIdDomain(app)
}

// TicketSubject is a ticket mail's subject.
func TicketSubject(ticket *core.Record) string {
	s := strings.Join(strings.Fields(ticket.GetString("ticketSubject")), " ")
	return "[#" + ticket.Id + "] " + s
}

// maxReferences bounds the References header (the thread's first mail and
// the newest ones), so that its line stays far below SMTP's 998 bytes.
const maxReferences = 8

// ThreadOf lists the Message-IDs of a ticket's mails so far (ours and the
// ones received on it), oldest first, at most maxReferences: the first one
// and the newest ones.
func ThreadOf(app core.App, ticketId string) ([]string, error) {
	var rows []struct {
		MessageId string `db:"messageId"`
	}
	q := `SELECT messageId FROM (
		SELECT messageId, createdAt FROM {{mailOutbox}} WHERE ticket = {:t} AND messageId != ''
		UNION ALL
		SELECT messageId, createdAt FROM {{inboundMail}} WHERE ticket = {:t} AND state = 'processed' AND messageId NOT LIKE 'sha256:%'
	) ORDER BY createdAt ASC`
	if err := app.DB().NewQuery(q).Bind(dbx.Params{"t": ticketId}).All(&rows); err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.MessageId)
	}
	if len(ids) > maxReferences {
		ids = append(ids[:1:1], ids[len(ids)-maxReferences+1:]...)
	}
	return ids, nil
}

// TicketMail is one mail about a ticket to its customer.
type TicketMail struct {
	Template string         // a file of templates/ without .tmpl
	Values   map[string]any // the template's .V ("marker" is added)

	// Attachments are the mail's files by name. Answer files (issue 15)
	// plug in here: the answer hook passes the answer's files, at most
	// 10 MiB in all, and links in the text beyond that.
	Attachments map[string]io.Reader

	// AutoSubmitted is the Auto-Submitted header for mail no person wrote
	// ("auto-replied" for the auto-reply, "auto-generated" for the rating
	// mail), so that the customer's autoresponder does not answer it.
	AutoSubmitted string
}

// BuildTicketMail renders a ticket mail to the ticket's customer with the
// threading headers, and returns it and its Message-ID (without <>). It
// returns a nil message when the customer has no address.
func BuildTicketMail(app core.App, ticket *core.Record, tm TicketMail) (*mailer.Message, string, error) {
	to := ticket.GetString("userEmail")
	if customer, err := app.FindRecordById(policy.Users, ticket.GetString("customerId")); err == nil {
		to = customer.Email()
	}
	if to == "" {
		return nil, "", nil
	}
	replyTo, err := ReplyAddress(app, ticket.Id)
	if err != nil {
		return nil, "", err
	}
	values := map[string]any{}
	for k, v := range tm.Values {
		values[k] = v
	}
	if replyTo != "" {
		values["marker"] = ReplyMarker
	}
	msg, err := Build(app, to, tm.Template, values)
	if err != nil {
		return nil, "", err
	}
	msg.Subject = TicketSubject(ticket)
	id := NewMessageId(app)
	msg.Headers = map[string]string{"Message-ID": "<" + id + ">"}
	thread, err := ThreadOf(app, ticket.Id)
	if err != nil {
		return nil, "", err
	}
	if len(thread) > 0 {
		msg.Headers["In-Reply-To"] = "<" + thread[len(thread)-1] + ">"
		msg.Headers["References"] = "<" + strings.Join(thread, "> <") + ">"
	}
	if replyTo != "" {
		msg.Headers["Reply-To"] = (&mail.Address{Address: replyTo}).String()
	}
	if tm.AutoSubmitted != "" {
		msg.Headers["Auto-Submitted"] = tm.AutoSubmitted
	}
	msg.Attachments = tm.Attachments
	return msg, id, nil
}

// QueueTicketMail builds a ticket mail and queues it in the outbox (in the
// caller's transaction when app is one), and returns the outbox record's id
// ("" when the customer has no address). This is the one function for
// every mail about a ticket, e.g. the rating mail:
//
//	mail.QueueTicketMail(tx, ticket, mail.TicketMail{Template: "ticket_rating",
//		Values: map[string]any{"good": goodURL, "bad": badURL}, AutoSubmitted: "auto-generated"})
func QueueTicketMail(app core.App, ticket *core.Record, tm TicketMail) (string, error) {
	msg, id, err := BuildTicketMail(app, ticket, tm)
	if err != nil || msg == nil {
		return "", err
	}
	return enqueue(app, msg, ticket.Id, id)
}
