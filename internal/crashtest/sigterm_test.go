package crashtest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"
)

// SIGTERM stops the server gracefully: it stops accepting connections, ends
// the realtime streams, lets a request under way finish (here one whose
// body is still arriving two seconds later, longer than PocketBase's own
// one-second shutdown allowance) and exits 0 with the ticket stored.
func TestSIGTERMFinishesRequestsUnderWay(t *testing.T) {
	dir := newDataDir(t)
	s := start(t, dir)
	op := s.operatorToken()
	token := s.customers(op, 1)[0]

	// an agent's console listening on realtime
	sse, err := hardeningClient.Get(s.url + "/api/realtime")
	if err != nil {
		t.Fatal(err)
	}
	defer sse.Body.Close()
	sseEnded := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, sse.Body); close(sseEnded) }()

	// a customer on a slow line: the headers and half the body are sent
	body := `{"ticketContent":"Sent while the server was stopping."}`
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /sendTicket HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		strings.TrimPrefix(s.url, "http://"), token, len(body), body[:20])
	time.Sleep(300 * time.Millisecond)

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sseEnded:
	case <-time.After(2 * time.Second):
		t.Fatal("the realtime stream was not ended by the shutdown")
	}
	time.Sleep(2 * time.Second)
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(s.url, "http://"), time.Second); err == nil {
		c.Close()
		t.Fatal("the stopping server still accepts connections")
	}
	if s.exited() {
		t.Fatalf("the server exited with a request under way:\n%s", s.log)
	}

	// the rest of the body arrives; the answer must be a normal 201
	if _, err := io.WriteString(conn, body[20:]); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the request under way got no answer: %v\n%s", err, s.log)
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("the request under way: %d %s", res.StatusCode, raw)
	}
	var id string
	if i := strings.Index(string(raw), `"ticketId":"`); i >= 0 {
		id = string(raw[i+len(`"ticketId":"`):])
		id = id[:strings.IndexByte(id, '"')]
	}
	if id == "" {
		t.Fatalf("no ticketId in %s", raw)
	}

	if code := s.wait(3 * time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, s.log)
	}
	checkData(t, dir, map[string]string{id: "Sent while the server was stopping."})
}
