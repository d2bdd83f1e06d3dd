package crashtest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	portalserver "ticketportal/server"
)

// rawGet sends path exactly as written (no client-side cleaning) and
// returns the response.
func rawGet(t testing.TB, hostPort, path string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", hostPort)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", path, hostPort)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, err.Error()
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(raw)
}

// The static handler serves pb_public and nothing outside it, however the
// path is spelled; the data dir (data.db) next to it stays out of reach.
func TestStaticFilesNeverLeavePbPublic(t *testing.T) {
	root := t.TempDir()
	public := filepath.Join(root, "pb_public")
	dir := filepath.Join(root, "pb_data")
	for name, content := range map[string]string{
		filepath.Join(public, "index.html"):   "<!doctype html><p>PUBLIC-INDEX</p>",
		filepath.Join(public, "js", "app.js"): "console.log('PUBLIC-JS')",
		filepath.Join(root, "secret.txt"):     "CANARY-OUTSIDE-PUBLIC",
		filepath.Join(public, "..%2fx", "y"):  "odd but inside",
	} {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cli(t, dir, "migrate", "up")
	s := start(t, dir, "PORTAL_PUBLIC_DIR="+public)
	host := strings.TrimPrefix(s.url, "http://")

	if res, body := rawGet(t, host, "/js/app.js"); res == nil || res.StatusCode != 200 || !strings.Contains(body, "PUBLIC-JS") {
		t.Fatalf("a public file is not served: %v %q", res, body)
	}
	for _, path := range []string{
		"/../secret.txt",
		"/../../secret.txt",
		"/js/../../secret.txt",
		"/%2e%2e/secret.txt",
		"/%2e%2e%2fsecret.txt",
		"/..%2fsecret.txt",
		"/js/..%2f..%2fsecret.txt",
		"/js%2f..%2f..%2fsecret.txt",
		"/.%2e/secret.txt",
		"/%252e%252e/secret.txt",
		"/%252e%252e%252fsecret.txt",
		"/..%5csecret.txt",
		"/..\\secret.txt",
		"//secret.txt",
		"/./../secret.txt",
		"/%c0%ae%c0%ae/secret.txt",
		"/..%00/secret.txt",
		"/../pb_data/data.db",
		"/%2e%2e/pb_data/data.db",
		"/..%2fpb_data%2fdata.db",
		"/%2fetc%2fpasswd",
		"/../../../../../../etc/passwd",
	} {
		res, body := rawGet(t, host, path)
		if res == nil {
			continue // the server refused to parse the request line: nothing leaked
		}
		if res.StatusCode >= 500 {
			t.Errorf("GET %s: %d", path, res.StatusCode)
		}
		for _, leak := range []string{"CANARY-OUTSIDE-PUBLIC", "SQLite format", "root:x:0:0"} {
			if strings.Contains(body, leak) {
				t.Errorf("GET %s (%d) leaks a file outside pb_public", path, res.StatusCode)
			}
		}
	}
}

// The real server's pages carry the security headers; the dashboard keeps
// PocketBase's own policy (which it needs) and is not framed either.
func TestPagesAndDashboardSecurityHeaders(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "pb_data")
	cli(t, dir, "migrate", "up")
	s := start(t, dir, "PORTAL_PUBLIC_DIR="+filepath.Join("..", "..", "pb_public"))
	for _, path := range []string{"/", "/agent/", "/style.css"} {
		res, err := hardeningClient.Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		for name, want := range map[string]string{
			"Content-Security-Policy": portalserver.PageCSP,
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"X-Frame-Options":         "DENY",
		} {
			if got := res.Header.Get(name); got != want {
				t.Errorf("GET %s: %s = %q, want %q", path, name, got, want)
			}
		}
	}
	res, err := hardeningClient.Get(s.url + "/_/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	csp := res.Header.Get("Content-Security-Policy")
	if res.StatusCode != 200 || csp == portalserver.PageCSP || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("dashboard: %d, policy %q", res.StatusCode, csp)
	}
}
