package mail_test

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"

	"ticketportal/mail"
	"ticketportal/policy"
	"ticketportal/testapp"
)

// sink is a loopback SMTP server whose answer per recipient a test decides.
type sink struct {
	addr     string
	accepted atomic.Int64
	mu       sync.Mutex
	refusals map[string][]int // recipient → codes to answer RCPT with, one per attempt
}

func startSink(t testing.TB) *sink {
	t.Helper()
	s := &sink{refusals: map[string][]int{}}
	srv := smtp.NewServer(sinkBackend{s})
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return s
}

func (s *sink) refuse(rcpt string, codes ...int) {
	s.mu.Lock()
	s.refusals[rcpt] = codes
	s.mu.Unlock()
}

type sinkBackend struct{ s *sink }

func (b sinkBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: b.s}, nil }

type sinkSession struct{ s *sink }

func (x *sinkSession) AuthPlain(string, string) error       { return nil }
func (x *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (x *sinkSession) Reset()                               {}
func (x *sinkSession) Logout() error                        { return nil }
func (x *sinkSession) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	x.s.accepted.Add(1)
	return err
}
func (x *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	codes := x.s.refusals[to]
	if len(codes) == 0 {
		return nil
	}
	x.s.refusals[to] = codes[1:]
	return &smtp.SMTPError{Code: codes[0], Message: fmt.Sprintf("test refusal %d", codes[0])}
}

// useSink points app's mailer at the sink (as testapp.SMTPServer.Use).
func useSink(t testing.TB, app core.App, s *sink) {
	host, port, _ := net.SplitHostPort(s.addr)
	st := app.Settings()
	st.SMTP.Enabled, st.SMTP.Host, st.SMTP.TLS, st.SMTP.AuthMethod = true, host, false, ""
	fmt.Sscan(port, &st.SMTP.Port)
	st.Meta.SenderAddress = "noreply@example.com"
	app.OnMailerSend().BindFunc(func(e *core.MailerEvent) error {
		e.Mailer = &mailer.SMTPClient{Host: host, Port: st.SMTP.Port, LocalName: "localhost"}
		return e.Next()
	})
}

func ticketHistory(t testing.TB, app core.App, ticketId string) []string {
	rows, err := app.FindRecordsByFilter(policy.History, "ticket = {:t}", "at", 0, 0, dbx.Params{"t": ticketId})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r.GetString("event"))
	}
	return out
}

// A permanent rejection (5xx) fails the mail at once, with a mailFailed
// line in its ticket's history; a transient one (4xx) is retried with
// backoff until it goes through, and the ticket gets a mailSent line.
func TestOutboxPermanentVersusTransientFailures(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	mail.SetOutboxOptions(app, fastRetries)
	s := startSink(t)
	useSink(t, app, s)
	s.refuse("alice@example.com", 550)
	s.refuse("bob@example.com", 451, 451)

	tk, _ := app.FindRecordById(policy.Tickets, testapp.TicketId)         // alice's
	other, _ := app.FindRecordById(policy.Tickets, testapp.OtherTicketId) // bob's
	dead, err := mail.QueueTicketMail(app, tk, mail.TicketMail{Template: "ticket_answer", Values: map[string]any{"answer": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	later, err := mail.QueueTicketMail(app, other, mail.TicketMail{Template: "ticket_answer", Values: map[string]any{"answer": "y"}})
	if err != nil {
		t.Fatal(err)
	}
	d := waitEntry(t, app, dead, 3*time.Second, func(e outboxEntry) bool { return e.Status == mail.StatusFailed })
	if d.Attempts != 1 || !strings.Contains(d.LastError, "550") {
		t.Errorf("permanent: %+v", d)
	}
	l := waitEntry(t, app, later, 5*time.Second, func(e outboxEntry) bool { return e.Status == mail.StatusSent })
	if l.Attempts != 3 {
		t.Errorf("transient: %+v", l)
	}
	time.Sleep(100 * time.Millisecond)
	if ev := ticketHistory(t, app, testapp.TicketId); !containsStr(ev, policy.EventMailFailed) || containsStr(ev, policy.EventMailSent) {
		t.Errorf("alice's ticket history %v", ev)
	}
	if ev := ticketHistory(t, app, testapp.OtherTicketId); !containsStr(ev, policy.EventMailSent) || containsStr(ev, policy.EventMailFailed) {
		t.Errorf("bob's ticket history %v", ev)
	}
	if mail.Permanent(fmt.Errorf("x")) {
		t.Error("a plain error is permanent")
	}
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// BenchmarkOutboxThroughput sends b.N mails to a loopback SMTP server
// through the outbox (parallel senders) and, in the same run, through
// PocketBase's mailer called directly one after the other, and prints both
// rates and their ratio.
func BenchmarkOutboxThroughput(b *testing.B) {
	const n = 400
	app := testapp.New(b)
	defer app.Cleanup()
	s := startSink(b)
	useSink(b, app, s)
	host, port, _ := net.SplitHostPort(s.addr)
	pb := &mailer.SMTPClient{Host: host, LocalName: "localhost"}
	fmt.Sscan(port, &pb.Port)
	for _, senders := range []int{1, 4, 8} {
		opts := mail.DefaultOptions
		opts.Senders = senders
		mail.SetOutboxOptions(app, opts)
		b.Run(fmt.Sprintf("senders=%d", senders), func(b *testing.B) {
			for range b.N {
				direct := measure(func() {
					for i := range n {
						if err := pb.Send(message(fmt.Sprintf("d%d@example.com", i), "direct")); err != nil {
							b.Fatal(err)
						}
					}
				})
				before := s.accepted.Load()
				outbox := measure(func() {
					for i := range n {
						if _, err := mail.Enqueue(app, message(fmt.Sprintf("o%d@example.com", i), "outbox")); err != nil {
							b.Fatal(err)
						}
					}
					for s.accepted.Load()-before < n {
						time.Sleep(2 * time.Millisecond)
					}
				})
				b.ReportMetric(n/outbox.Seconds(), "outbox-mails/s")
				b.ReportMetric(n/direct.Seconds(), "pocketbase-direct-mails/s")
				b.ReportMetric(direct.Seconds()/outbox.Seconds(), "ratio")
			}
		})
	}
}

func measure(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}
