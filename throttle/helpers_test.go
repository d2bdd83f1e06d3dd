package throttle_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/testapp"
)

// server is a served test app whose client address comes from the
// X-Forwarded-For header, so that one test can speak from many addresses.
type server struct {
	t    *testing.T
	app  *tests.TestApp
	base string
}

func serve(t *testing.T) *server {
	t.Helper()
	app := testapp.New(t)
	app.Settings().TrustedProxy.Headers = []string{"X-Forwarded-For"}
	return &server{t: t, app: app, base: testapp.Serve(t, app)}
}

// call sends a JSON request from the client address ip and returns the
// status and the decoded body.
func (s *server) call(ip, method, path, token, body string) (int, map[string]any) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", ip)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	if res.StatusCode == http.StatusTooManyRequests && strings.Contains(string(raw), "at most") && res.Header.Get("Retry-After") == "" {
		s.t.Errorf("%s %s: 429 without Retry-After", method, path)
	}
	out["raw"] = string(raw)
	return res.StatusCode, out
}

// record loads a record.
func (s *server) record(collection, id string) *core.Record {
	s.t.Helper()
	r, err := s.app.FindRecordById(collection, id)
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

// token is a fresh auth token of an account.
func (s *server) token(collection, id string) string {
	s.t.Helper()
	tok, err := s.record(collection, id).NewAuthToken()
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

// emailChangeToken is a token that changes the account's email to newEmail.
func (s *server) emailChangeToken(collection, id, newEmail string) string {
	s.t.Helper()
	tok, err := s.record(collection, id).NewEmailChangeToken(newEmail)
	if err != nil {
		s.t.Fatal(err)
	}
	return tok
}

// ipN is the n-th documentation address (TEST-NET-2): a header value only.
func ipN(n int) string {
	return "198.51.100." + itoa(n%250+1)
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
