package testapp

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"ticketportal/realtime"
)

// SSE is a real client of PocketBase's realtime API (server-sent events on
// /api/realtime), doing what the pocketbase JavaScript SDK does.
type SSE struct {
	ClientId string

	t       testing.TB
	baseURL string
	events  chan SSEEvent
	hold    chan struct{} // not nil: reading stops after PB_CONNECT until closed
	close   func()
}

// SSEEvent is one event received: its name (the subscription) and data.
type SSEEvent struct {
	Name string
	Data string
}

// Decode unmarshals the event's data into dst, failing the test if it is
// not JSON.
func (ev SSEEvent) Decode(t testing.TB, dst any) {
	t.Helper()
	if err := json.Unmarshal([]byte(ev.Data), dst); err != nil {
		t.Fatalf("event %s: data %q: %v", ev.Name, ev.Data, err)
	}
}

// ConnectSSE opens a realtime connection to the server at baseURL (see
// Serve) and waits for PB_CONNECT. The connection ends with the test.
func ConnectSSE(t testing.TB, baseURL string) *SSE {
	t.Helper()
	return connectSSE(t, baseURL, http.DefaultClient, nil)
}

// ConnectStalledSSE is ConnectSSE for a client that stops reading once it
// has PB_CONNECT, until Resume.
func ConnectStalledSSE(t testing.TB, baseURL string) *SSE {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	return connectSSE(t, baseURL, client, make(chan struct{}))
}

// Close ends the connection from the client's side, as a closed tab does.
func (s *SSE) Close() { s.close() }

// Resume makes a stalled client read again.
func (s *SSE) Resume() {
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
}

// Ended reads (and drops) the client's events until its stream ends,
// reporting whether the server ended it within timeout.
func (s *SSE) Ended(timeout time.Duration) bool {
	deadline := time.After(timeout)
	for {
		select {
		case _, ok := <-s.events:
			if !ok {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

func connectSSE(t testing.TB, baseURL string, client *http.Client, hold chan struct{}) *SSE {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/api/realtime", nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	res, err := client.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("realtime connect: %v", err)
	}
	if res.StatusCode != http.StatusOK {
		cancel()
		t.Fatalf("realtime connect: status %d", res.StatusCode)
	}
	s := &SSE{t: t, baseURL: baseURL, events: make(chan SSEEvent, 1000), hold: hold}
	s.close = func() {
		cancel()
		res.Body.Close()
	}
	go s.read(res.Body, hold)
	t.Cleanup(s.close)

	connect, ok := s.Next(10 * time.Second)
	if !ok || connect.Name != "PB_CONNECT" {
		t.Fatalf("realtime connect: first event %+v, want PB_CONNECT", connect)
	}
	var data struct{ ClientId string }
	connect.Decode(t, &data)
	if data.ClientId == "" {
		t.Fatalf("realtime connect: no clientId in %q", connect.Data)
	}
	s.ClientId = data.ClientId
	return s
}

// read parses the event stream until it ends.
func (s *SSE) read(body io.Reader, hold chan struct{}) {
	defer close(s.events)
	scanner := bufio.NewScanner(body)
	scanner.Buffer(make([]byte, 64<<10), 4<<20)
	var ev SSEEvent
	var data []string
	for scanner.Scan() {
		line := scanner.Text()
		switch {
		case line == "":
			if ev.Name != "" || len(data) > 0 {
				ev.Data = strings.Join(data, "\n")
				s.events <- ev
				if ev.Name == "PB_CONNECT" && hold != nil {
					<-hold
				}
			}
			ev, data = SSEEvent{}, nil
		case strings.HasPrefix(line, "event:"):
			ev.Name = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			data = append(data, strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " "))
		}
	}
}

// Subscribe sets the client's subscriptions (replacing earlier ones) with
// the given token ("" for none) and returns the response status: 204 when
// accepted.
func (s *SSE) Subscribe(token string, topics ...string) int {
	s.t.Helper()
	if topics == nil {
		topics = []string{}
	}
	body, err := json.Marshal(map[string]any{"clientId": s.ClientId, "subscriptions": topics})
	if err != nil {
		s.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.baseURL+"/api/realtime", strings.NewReader(string(body)))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("realtime subscribe: %v", err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// MustSubscribe is Subscribe that fails the test unless it is accepted.
func (s *SSE) MustSubscribe(token string, topics ...string) {
	s.t.Helper()
	if status := s.Subscribe(token, topics...); status != http.StatusNoContent {
		s.t.Fatalf("subscribe to %v: status %d, want 204", topics, status)
	}
}

// Next returns the next event, or false if none arrives within timeout.
func (s *SSE) Next(timeout time.Duration) (SSEEvent, bool) {
	select {
	case ev, ok := <-s.events:
		return ev, ok
	case <-time.After(timeout):
		return SSEEvent{}, false
	}
}

// Expect returns the next event, failing the test unless it arrives within
// a few seconds and is named name.
func (s *SSE) Expect(t testing.TB, name string) SSEEvent {
	t.Helper()
	ev, ok := s.Next(10 * time.Second)
	if !ok {
		t.Fatalf("no %s event arrived", name)
	}
	if ev.Name != name {
		t.Fatalf("got event %s %s, want %s", ev.Name, ev.Data, name)
	}
	return ev
}

// ExpectNothing fails the test if an event arrives within d.
func (s *SSE) ExpectNothing(t testing.TB, d time.Duration) {
	t.Helper()
	if ev, ok := s.Next(d); ok {
		t.Fatalf("unexpected event %s %s", ev.Name, ev.Data)
	}
}

// ExpectMarked reads the next event of s and checks that it is exactly the
// admin room's marked message want.
func (s *SSE) ExpectMarked(t testing.TB, want realtime.Marked) {
	t.Helper()
	ev := s.Expect(t, realtime.AdminsRoom)
	var got map[string]any
	ev.Decode(t, &got)
	wantMap := map[string]any{"event": "marked", "ticketId": want.TicketId, "ticketStatus": want.TicketStatus, "by": want.By}
	if len(got) != len(wantMap) {
		t.Fatalf("marked message %s, want exactly %v", ev.Data, wantMap)
	}
	for k, v := range wantMap {
		if got[k] != v {
			t.Fatalf("marked message %s, want %v", ev.Data, wantMap)
		}
	}
}
