package inbound_test

import (
	"strings"
	"testing"

	"ticketportal/inbound"
	"ticketportal/mail"
)

// Every charset and transfer encoding mail programs use is decoded.
func TestParseCharsetsAndEncodings(t *testing.T) {
	cases := []struct{ name, raw, want, subject string }{
		{"ISO-8859-1 quoted-printable",
			"From: a@x\nSubject: =?ISO-8859-1?Q?R=E9sum=E9?=\nMIME-Version: 1.0\nContent-Type: text/plain; charset=ISO-8859-1\nContent-Transfer-Encoding: quoted-printable\n\nCaf=E9 cr=E8me, na=EFve =\nsoft break\n",
			"Café crème, naïve soft break", "Résumé"},
		{"base64 UTF-8",
			"From: a@x\nSubject: =?UTF-8?B?5pel5pys6Kqe?=\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n8J+Ri0dyw7zDn2UgYXVzIE3DvG5jaGVuIQ==\n",
			"👋Grüße aus München!", "日本語"},
		{"Shift_JIS",
			"From: a@x\nSubject: test\nMIME-Version: 1.0\nContent-Type: text/plain; charset=Shift_JIS\nContent-Transfer-Encoding: 8bit\n\n" + "\x82\xb1\x82\xf1\x82\xc9\x82\xbf\x82\xcd" + "\n",
			"こんにちは", "test"},
		{"multipart/alternative prefers text/plain",
			"From: a@x\nSubject: s\nMIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=XX\n\n--XX\nContent-Type: text/plain; charset=utf-8\n\nplain part\n--XX\nContent-Type: text/html; charset=utf-8\n\n<p>html part</p>\n--XX--\n",
			"plain part", "s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := inbound.Parse([]byte(strings.ReplaceAll(c.raw, "\n", "\r\n")))
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSpace(p.Text); got != c.want {
				t.Errorf("text %q, want %q", got, c.want)
			}
			if p.Subject != c.subject {
				t.Errorf("subject %q, want %q", p.Subject, c.subject)
			}
		})
	}
}

// HTML only: the text of it, never markup, scripts and styles dropped.
func TestHTMLBecomesText(t *testing.T) {
	raw := "From: a@x\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" +
		`<html><head><style>p{color:red}</style><script>alert("head")</script></head><body>` +
		`<p>Hello <b>team</b>,</p><p>the <a href="https://x.example/a">link</a> fails &amp; <img src=x onerror="alert(1)" alt="screenshot"></p>` +
		`<script>document.cookie</script><div>Line<br>break</div><ul><li>one</li><li>two</li></ul></body></html>`
	p, err := inbound.Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := "Hello team,\n\nthe link (https://x.example/a) fails & [screenshot]\n\nLine\nbreak\n- one\n- two"
	if p.Text != want || !p.IsHTML {
		t.Errorf("text\n%q\nwant\n%q", p.Text, want)
	}
	for _, bad := range []string{"<", "alert", "cookie", "color:red", "onerror"} {
		if strings.Contains(p.Text, bad) {
			t.Errorf("the text holds %q", bad)
		}
	}
}

// Quoted history (Gmail, Outlook, Apple Mail, "> " lines, our marker) and
// the "-- " signature are cut.
func TestQuotesAndSignaturesAreCut(t *testing.T) {
	cases := []struct{ name, text string }{
		{"gmail", "New text.\n\nOn Tue, Dec 1, 2026 at 10:00 AM Support <support@example.com> wrote:\n> old line\n> older\n"},
		{"gmail wrapped", "New text.\n\nOn Tue, Dec 1, 2026 at 10:00 AM Example Support <\nsupport@example.com> wrote:\n\n> old\n"},
		{"outlook original message", "New text.\n\n-----Original Message-----\nFrom: Support <support@example.com>\nSent: Tuesday, December 1, 2026 10:00 AM\nTo: Alice\nSubject: [#x] y\n\nold text\n"},
		{"outlook from block", "New text.\n\n________________________________\nFrom: Support <support@example.com>\nSent: Tuesday, December 1, 2026 10:00\nTo: alice@example.com\nSubject: RE: [#x]\n\nold\n"},
		{"outlook from block without rule", "New text.\n\nFrom: Support <support@example.com>\nSent: Tuesday, December 1, 2026 10:00\nTo: alice@example.com\n\nold\n"},
		{"apple mail", "New text.\n\n> On 1 Dec 2026, at 10:00, Support <support@example.com> wrote:\n> \n> old\n"},
		{"apple mail unquoted attribution", "New text.\n\nOn 1 Dec 2026, at 10:00, Support <support@example.com> wrote:\n\n> old\n"},
		{"our marker", "New text.\n\n" + mail.ReplyMarker + "\nHello Alice, old answer\n"},
		{"quoted marker", "New text.\n> " + mail.ReplyMarker + "\n> Hello Alice\n"},
		{"signature", "New text.\n\n-- \nAlice Adams\nACME Corp\n"},
		{"interleaved quote lines", "> what about X?\nNew text.\n> and Y?\n"},
	}
	for _, c := range cases {
		if got := inbound.CutQuotes(c.text); got != "New text." {
			t.Errorf("%s: %q", c.name, got)
		}
	}
	// a sentence that merely starts with "On" stays
	if got := inbound.CutQuotes("On Monday it broke.\nFrom: the logs, nothing."); got != "On Monday it broke.\nFrom: the logs, nothing." {
		t.Errorf("kept text was cut: %q", got)
	}
}
