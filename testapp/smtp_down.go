package testapp

import (
	"bufio"
	"net"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Stop takes the SMTP server down: its port refuses connections until
// Restart. Mail received so far is kept.
func (s *SMTPServer) Stop(t testing.TB) {
	t.Helper()
	// The server registers its listener when its Serve loop starts: wait
	// for its greeting, or Close could miss a listener not registered yet.
	conn, err := net.DialTimeout("tcp", s.Addr, 2*time.Second)
	if err != nil {
		t.Fatalf("the SMTP server is not up: %v", err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, _ = bufio.NewReader(conn).ReadString('\n')
	conn.Close()
	s.mu.Lock()
	srv := s.server
	s.mu.Unlock()
	if err := srv.Close(); err != nil {
		t.Fatalf("stopping the SMTP server: %v", err)
	}
}

// Restart brings a stopped SMTP server back on the same address.
func (s *SMTPServer) Restart(t testing.TB) {
	t.Helper()
	srv := smtp.NewServer(&smtpBackend{s})
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 30 * time.Second
	srv.WriteTimeout = 30 * time.Second
	var l net.Listener
	var err error
	for range 50 { // the old socket may linger for a moment
		if l, err = net.Listen("tcp", s.Addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("restarting the SMTP server on %s: %v", s.Addr, err)
	}
	s.mu.Lock()
	s.server = srv
	s.mu.Unlock()
	go srv.Serve(l)
}
