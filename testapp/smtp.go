package testapp

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"
)

// Mail is one message received by the test SMTP server.
type Mail struct {
	From    string
	To      []string
	Subject string
	HTML    string
	Text    string
	Raw     string
}

// SMTPServer is a real SMTP server on loopback that keeps what it receives.
type SMTPServer struct {
	Addr string

	mu      sync.Mutex
	mails   []Mail
	arrived chan struct{}
	server  *smtp.Server
	delay   time.Duration
	refuse  bool
}

// StartSMTP starts an SMTP server on a free loopback port, stopped when the
// test ends.
func StartSMTP(t testing.TB) *SMTPServer {
	t.Helper()
	s := &SMTPServer{arrived: make(chan struct{}, 1000)}
	s.server = smtp.NewServer(&smtpBackend{s})
	s.server.Domain = "localhost"
	s.server.AllowInsecureAuth = true
	s.server.ReadTimeout = 30 * time.Second
	s.server.WriteTimeout = 30 * time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = l.Addr().String()
	go s.server.Serve(l)
	t.Cleanup(func() { s.server.Close() })
	return s
}

// Use points app's mailer at the server (SMTP on, no TLS). A TestApp
// otherwise captures mail in app.TestMailer without sending it.
func (s *SMTPServer) Use(t testing.TB, app core.App) {
	t.Helper()
	host, port, _ := net.SplitHostPort(s.Addr)
	settings := app.Settings()
	settings.SMTP.Enabled = true
	settings.SMTP.Host = host
	settings.SMTP.Port, _ = strconv.Atoi(port)
	settings.SMTP.TLS = false
	settings.SMTP.AuthMethod = ""
	if settings.Meta.SenderAddress == "" {
		settings.Meta.SenderAddress = "support@example.com"
	}
	// A TestApp swaps in its own capturing mailer; send for real instead,
	// through a client that does not fire the send hook a second time.
	app.OnMailerSend().BindFunc(func(e *core.MailerEvent) error {
		smtpSettings := e.App.Settings().SMTP
		e.Mailer = &mailer.SMTPClient{Host: smtpSettings.Host, Port: smtpSettings.Port, LocalName: "localhost"}
		return e.Next()
	})
}

// SetDelay makes the server wait before accepting each message (a slow
// server); SetRefuse makes it refuse messages (a broken one).
func (s *SMTPServer) SetDelay(d time.Duration) { s.mu.Lock(); s.delay = d; s.mu.Unlock() }
func (s *SMTPServer) SetRefuse(r bool)         { s.mu.Lock(); s.refuse = r; s.mu.Unlock() }

// Mails returns a copy of what arrived so far.
func (s *SMTPServer) Mails() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Mail(nil), s.mails...)
}

// WaitFor waits until a mail to addr arrives whose subject contains
// subject, and returns it.
func (s *SMTPServer) WaitFor(t testing.TB, addr, subject string, timeout time.Duration) Mail {
	t.Helper()
	deadline := time.After(timeout)
	for {
		for _, m := range s.Mails() {
			for _, to := range m.To {
				if strings.EqualFold(to, addr) && strings.Contains(m.Subject, subject) {
					return m
				}
			}
		}
		select {
		case <-s.arrived:
		case <-deadline:
			t.Fatalf("no mail to %s with subject containing %q within %s (got %d mails)", addr, subject, timeout, len(s.Mails()))
		}
	}
}

type smtpBackend struct{ s *SMTPServer }

func (b *smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &smtpSession{s: b.s}, nil
}

type smtpSession struct {
	s    *SMTPServer
	from string
	to   []string
}

func (x *smtpSession) AuthPlain(string, string) error { return nil }
func (x *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}
func (x *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.to = append(x.to, to)
	return nil
}
func (x *smtpSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	x.s.mu.Lock()
	delay, refuse := x.s.delay, x.s.refuse
	x.s.mu.Unlock()
	time.Sleep(delay)
	if refuse {
		return &smtp.SMTPError{Code: 451, Message: "test server refuses mail"}
	}
	m := parseMail(string(raw))
	m.From, m.To = x.from, x.to
	x.s.mu.Lock()
	x.s.mails = append(x.s.mails, m)
	x.s.mu.Unlock()
	select {
	case x.s.arrived <- struct{}{}:
	default:
	}
	return nil
}
func (x *smtpSession) Reset()        { x.from, x.to = "", nil }
func (x *smtpSession) Logout() error { return nil }

// parseMail decodes the subject and the text and HTML parts of a message.
func parseMail(raw string) Mail {
	m := Mail{Raw: raw}
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		return m
	}
	dec := new(mime.WordDecoder)
	if subj, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
		m.Subject = subj
	}
	collectParts(&m, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	return m
}

func collectParts(m *Mail, contentType, encoding string, body io.Reader) {
	mediaType, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mediaType = "text/plain"
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if errors.Is(err, io.EOF) || err != nil {
				return
			}
			collectParts(m, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
		}
	}
	data, _ := io.ReadAll(decodeTransfer(encoding, body))
	switch mediaType {
	case "text/html":
		m.HTML += string(data)
	case "text/plain":
		m.Text += string(data)
	}
}
