package inbound

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/textproto"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // every charset golang.org/x/text knows
	gomail "github.com/emersion/go-message/mail"
)

// maxTextBytes bounds the text read from one part (a message's body is at
// most 10,000 characters anyway).
const maxTextBytes = 1 << 20

// Parsed is what processing needs of a raw message.
type Parsed struct {
	MessageId     string   // without <>; "sha256:<hex>" when the mail has none
	From          string   // the From address, lowercased
	FromName      string   // its display name, decoded
	Subject       string   // decoded
	InReplyTo     []string // without <>
	References    []string // without <>, oldest first
	AutoSubmitted string
	Precedence    string
	ReturnPath    string // the Return-Path header, "" when absent
	HasReturnPath bool
	Recipients    []string // To, Cc, Delivered-To, X-Original-To (for IMAP)
	Text          string   // the plain text, before quotes are cut
	IsHTML        bool     // Text came from the HTML part
	IsReport      bool     // multipart/report; report-type=delivery-status
	Bounced       []string // Message-IDs named in a delivery report
	Files         []File   // attachments and inline images, in the mail's order
}

// File is an attachment or inline image of a mail, decoded.
type File struct {
	Name, Type string
	Data       []byte
}

// HeaderMessageId reads only the headers: the message's Message-ID (or the
// hash of the raw bytes), its From address and subject. The receivers use it
// to store a message.
func HeaderMessageId(raw []byte) (id, from, subject string) {
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw))).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return rawHash(raw), "", ""
	}
	mh := gomail.Header{Header: message.Header{}}
	for k, vs := range h {
		for _, v := range vs {
			mh.Add(k, v)
		}
	}
	id, _ = mh.MessageID()
	if id == "" || len(id) > 900 {
		id = rawHash(raw)
	}
	if list, err := mh.AddressList("From"); err == nil && len(list) > 0 {
		from = strings.ToLower(list[0].Address)
	}
	subject, _ = mh.Subject()
	return id, from, subject
}

func rawHash(raw []byte) string {
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Parse decodes a raw message: headers, the text (text/plain, else the HTML
// converted to text; every charset and transfer encoding decoded) and, for a
// delivery report, the Message-IDs of the mails it reports on.
func Parse(raw []byte) (*Parsed, error) {
	p := &Parsed{}
	e, err := message.Read(bytes.NewReader(raw))
	if e == nil {
		return nil, err
	}
	h := gomail.Header{Header: e.Header}
	p.MessageId, _ = h.MessageID()
	if p.MessageId == "" || len(p.MessageId) > 900 {
		p.MessageId = rawHash(raw)
	}
	if list, err := h.AddressList("From"); err == nil && len(list) > 0 {
		p.From = strings.ToLower(list[0].Address)
		p.FromName = list[0].Name
	} else if v := h.Get("From"); v != "" {
		// a From the parser cannot read: take what looks like an address
		if i, j := strings.LastIndex(v, "<"), strings.LastIndex(v, ">"); i >= 0 && j > i {
			p.From = strings.ToLower(strings.TrimSpace(v[i+1 : j]))
		} else {
			p.From = strings.ToLower(strings.TrimSpace(v))
		}
	}
	p.Subject, _ = h.Subject()
	p.InReplyTo, _ = h.MsgIDList("In-Reply-To")
	p.References, _ = h.MsgIDList("References")
	p.AutoSubmitted = strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted")))
	p.Precedence = strings.ToLower(strings.TrimSpace(h.Get("Precedence")))
	if h.Has("Return-Path") {
		p.HasReturnPath = true
		p.ReturnPath = strings.Trim(strings.TrimSpace(h.Get("Return-Path")), "<>")
	}
	for _, k := range []string{"To", "Cc", "Delivered-To", "X-Original-To"} {
		if list, err := h.AddressList(k); err == nil {
			for _, a := range list {
				p.Recipients = append(p.Recipients, a.Address)
			}
		}
	}
	if t, params, err := h.ContentType(); err == nil && t == "multipart/report" && strings.EqualFold(params["report-type"], "delivery-status") {
		p.IsReport = true
	}

	var plain, html string
	var havePlain, haveHTML bool
	_ = e.Walk(func(path []int, part *message.Entity, err error) error {
		if part == nil {
			return nil
		}
		t, _, _ := part.Header.ContentType()
		if t == "" {
			t = "text/plain"
		}
		disp, _, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
		switch {
		case strings.HasPrefix(t, "multipart/"):
			return nil
		case p.IsReport && (t == "message/rfc822" || t == "text/rfc822-headers" || t == "message/rfc822-headers"):
			p.Bounced = append(p.Bounced, reportedIds(part.Body)...)
			return nil
		case disp == "attachment" || (t != "text/plain" && t != "text/html" && !strings.HasPrefix(t, "message/")):
			// attachments and inline images become the message's files
			p.Files = append(p.Files, readFile(part, t, len(p.Files)+1))
			return nil
		case t == "text/plain" && !havePlain:
			b, _ := io.ReadAll(io.LimitReader(part.Body, maxTextBytes))
			plain, havePlain = string(b), true
		case t == "text/html" && !haveHTML:
			b, _ := io.ReadAll(io.LimitReader(part.Body, maxTextBytes))
			html, haveHTML = string(b), true
		}
		return nil
	})
	switch {
	case havePlain:
		p.Text = plain
	case haveHTML:
		p.Text, p.IsHTML = HTMLToText(html), true
	}
	p.Text = strings.ToValidUTF8(strings.ReplaceAll(p.Text, "\r\n", "\n"), "\uFFFD")
	p.Text = strings.ReplaceAll(p.Text, "\x00", "")
	if p.IsReport {
		p.Bounced = append(p.Bounced, p.InReplyTo...)
		p.Bounced = append(p.Bounced, p.References...)
	}
	return p, nil
}

// reportedIds reads the Message-ID of the original mail attached to a
// delivery report (its whole text or only its headers).
func reportedIds(body io.Reader) []string {
	b, _ := io.ReadAll(io.LimitReader(body, 1<<20))
	e, err := message.Read(bytes.NewReader(b))
	if e == nil {
		_ = err
		return nil
	}
	h := gomail.Header{Header: e.Header}
	if id, _ := h.MessageID(); id != "" {
		return []string{id}
	}
	return nil
}

// readFile reads one attachment or inline part: its name from the
// Content-Disposition filename or the Content-Type name (else one made from
// the part's number and type), its bytes decoded. The raw message is at most
// 25 MiB, so a part is too.
func readFile(part *message.Entity, contentType string, n int) File {
	_, dparams, _ := mime.ParseMediaType(part.Header.Get("Content-Disposition"))
	_, cparams, _ := part.Header.ContentType()
	name := dparams["filename"]
	if name == "" {
		name = cparams["name"]
	}
	name = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(name, "/", "_"), "\\", "_"))
	if name == "" {
		name = fmt.Sprintf("attachment-%d", n)
		if exts, _ := mime.ExtensionsByType(contentType); len(exts) > 0 {
			name += exts[0]
		}
	}
	data, _ := io.ReadAll(part.Body)
	return File{Name: name, Type: contentType, Data: data}
}
