package crashtest

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// A mail answered 250 by the SMTP receiver survives a SIGKILL right after
// the answer: the restarted server processes it, and every acknowledged
// reply is on its ticket exactly once.
func TestSIGKILLRightAfter250KeepsTheReply(t *testing.T) {
	dir := newDataDir(t)
	smtpAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	env := []string{"PORTAL_INBOUND_ADDRESS=support@example.com"}
	s := startWith(t, dir, "", []string{"--smtpListen", smtpAddr}, env...)
	op := s.operatorToken()
	tokens := s.customers(op, 1)
	out := s.must(http.StatusCreated, http.MethodPost, "/sendTicket", tokens[0], `{"ticketContent":"My printer is broken.","ticketSubject":"Printer"}`)
	ticketId, _ := out["ticketId"].(string)
	if ticketId == "" {
		t.Fatalf("no ticket id in %v", out)
	}

	var (
		mu     sync.Mutex
		acked  []int
		killed = make(chan struct{})
		once   sync.Once
		wg     sync.WaitGroup
	)
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := smtp.Dial(smtpAddr)
			if err != nil {
				return
			}
			defer c.Close()
			if c.Hello("client.example") != nil {
				return
			}
			for i := w; ; i += 4 {
				select {
				case <-killed:
					return
				default:
				}
				raw := fmt.Sprintf("From: load00@example.com\r\nTo: support@example.com\r\nSubject: Re: [#%s] Printer\r\nMessage-ID: <crash-%d@client.example>\r\n\r\nreply number %d\r\n", ticketId, i, i)
				if err := sendOne(c, "load00@example.com", raw); err != nil {
					return
				}
				mu.Lock()
				acked = append(acked, i)
				n := len(acked)
				mu.Unlock()
				if n >= 40 {
					once.Do(func() { s.kill(); close(killed) })
					return
				}
			}
		}()
	}
	wg.Wait()
	once.Do(func() { s.kill(); close(killed) })
	mu.Lock()
	got := append([]int(nil), acked...)
	mu.Unlock()
	if len(got) < 40 {
		t.Fatalf("only %d mails were answered 250 before the kill:\n%s", len(got), s.log)
	}

	restarted := time.Now().UTC().Format("2006-01-02 15:04:05.000Z")
	s = start(t, dir, env...)
	op = s.operatorToken()
	deadline := time.Now().Add(20 * time.Second)
	for s.sql(op, "SELECT COUNT(*) FROM inboundMail WHERE state = 'stored'") != "0" {
		if time.Now().After(deadline) {
			t.Fatalf("stored mail was not processed after the restart:\n%s", s.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, i := range got {
		q := fmt.Sprintf("SELECT COUNT(*) FROM messages WHERE ticket = '%s' AND kind = 'reply' AND body = 'reply number %d'", ticketId, i)
		if n := s.sql(op, q); n != "1" {
			t.Errorf("reply %d acknowledged with 250 is on the ticket %s times", i, n)
		}
	}
	dups := s.sql(op, fmt.Sprintf("SELECT COUNT(*) - COUNT(DISTINCT body) FROM messages WHERE ticket = '%s'", ticketId))
	if dups != "0" {
		t.Errorf("%s duplicate messages", dups)
	}
	late := s.sql(op, "SELECT COUNT(*) FROM inboundMail WHERE processedAt >= '"+restarted+"'")
	t.Logf("%d mails answered 250 before SIGKILL (%s of them processed only after the restart), all on the ticket once", len(got), late)
}

func sendOne(c *smtp.Client, from, raw string) error {
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	if err := c.Rcpt("support@example.com", nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(raw)); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return nil
}
