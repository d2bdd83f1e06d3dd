package inbound

import (
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/pocketbase/pocketbase/core"
	"golang.org/x/net/netutil"

	"ticketportal/mail"
)

// MaxSMTPConnections bounds the receiver's simultaneous connections; more
// wait in the listen queue.
const MaxSMTPConnections = 100

// maxRecipients bounds RCPT TO per message.
const maxRecipients = 50

// SMTPReceiver is the inbound SMTP server (serve --smtpListen).
type SMTPReceiver struct {
	app    core.App
	server *smtp.Server
	Addr   string
}

// ListenSMTP starts the receiver on addr ("127.0.0.1:2525"; port 0 picks
// one) and returns once it listens.
func ListenSMTP(app core.App, addr string) (*SMTPReceiver, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	r := &SMTPReceiver{app: app, Addr: l.Addr().String()}
	s := smtp.NewServer(&backend{app: app})
	s.Domain = mail.MessageIdDomain(app)
	s.MaxMessageBytes = MaxBytes
	s.MaxRecipients = maxRecipients
	s.MaxLineLength = 1 << 16
	s.ReadTimeout = 5 * time.Minute
	s.WriteTimeout = time.Minute
	s.ErrorLog = logAdapter{app}
	r.server = s
	go func() {
		if err := s.Serve(netutil.LimitListener(l, MaxSMTPConnections)); err != nil && !errors.Is(err, smtp.ErrServerClosed) {
			app.Logger().Error("inbound SMTP receiver stopped", "error", err)
		}
	}()
	return r, nil
}

// Close stops the receiver.
func (r *SMTPReceiver) Close() error { return r.server.Close() }

type logAdapter struct{ app core.App }

func (l logAdapter) Printf(format string, v ...any) {
	l.app.Logger().Debug("inbound SMTP", "detail", strings.TrimSpace(sprintf(format, v...)))
}
func (l logAdapter) Println(v ...any) {
	l.app.Logger().Debug("inbound SMTP", "detail", strings.TrimSpace(sprintln(v...)))
}

type backend struct{ app core.App }

func (b *backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{app: b.app}, nil }

type session struct {
	app  core.App
	from string
	to   []string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	if opts != nil && opts.Size > MaxBytes {
		return errTooLarge
	}
	s.from = from
	return nil
}

var errTooLarge = &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 3, 4}, Message: "Message too large: the limit is 25 MiB"}

// Rcpt accepts only the inbound address, plain or plus-tagged.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if kind, _ := mail.ParseRecipient(s.app, to); kind == mail.NotOurs {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such recipient here"}
	}
	s.to = append(s.to, to)
	return nil
}

// Data answers 250 only once the message is committed to the database.
func (s *session) Data(r io.Reader) error {
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, io.LimitReader(r, MaxBytes+1)); err != nil {
		var se *smtp.SMTPError
		if errors.As(err, &se) && se.Code == 552 {
			return errTooLarge
		}
		return err
	}
	if buf.Len() > MaxBytes {
		_, _ = io.Copy(io.Discard, r)
		return errTooLarge
	}
	if len(s.to) == 0 {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "No valid recipients"}
	}
	if _, _, err := Store(s.app, buf.Bytes(), "smtp", s.from, s.to); err != nil {
		s.app.Logger().Error("inbound SMTP: storing a message failed", "error", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Could not store the message; try again later"}
	}
	return nil
}
