package crashtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// hardeningClient fails a request that hangs instead of the whole package.
var hardeningClient = &http.Client{Timeout: 30 * time.Second}

// bin is the portal binary built once for the package's tests.
var bin string

// TestMain builds the binary, or uses CRASHTEST_BIN when set (to test
// another build, e.g. a release).
func TestMain(m *testing.M) {
	// This machine (and many CI images) sets AWS_CA_BUNDLE to a file the AWS
	// SDK cannot use as its only trust store: the S3 replica's client then
	// fails to start. The binaries these tests run do not inherit it.
	os.Unsetenv("AWS_CA_BUNDLE")
	if bin = os.Getenv("CRASHTEST_BIN"); bin != "" {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "ticketportal_crashtest_")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "ticketportal")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = filepath.Join("..", "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building the portal:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	operatorEmail    = "ops@example.com"
	operatorPassword = "operator-pass-1"
	customerPassword = "customer-pass-1"
)

// server is one running `serve` process of the built binary.
type server struct {
	t    testing.TB
	dir  string
	url  string
	cmd  *exec.Cmd
	done chan struct{}
	log  *syncBuffer
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// cli runs one command of the binary on dir and fails the test if it fails.
func cli(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, append(args, "--dir="+dir)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, args, err, out)
	}
	return string(out)
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start serves dir on a free loopback port and waits until it answers.
// env adds environment variables. The process is killed when the test ends
// if it still runs.
func start(t testing.TB, dir string, env ...string) *server {
	t.Helper()
	return startWith(t, dir, "", nil, env...)
}

// startWith is start run in the working directory wd (the test's own when
// empty) with more serve arguments.
func startWith(t testing.TB, dir, wd string, args []string, env ...string) *server {
	t.Helper()
	port := freePort(t)
	s := &server{t: t, dir: dir, url: fmt.Sprintf("http://127.0.0.1:%d", port), done: make(chan struct{}), log: &syncBuffer{}}
	s.cmd = exec.Command(bin, append([]string{"serve", fmt.Sprintf("--http=127.0.0.1:%d", port), "--dir=" + dir}, args...)...)
	s.cmd.Dir = wd
	s.cmd.Env = append(os.Environ(), env...)
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		if !s.exited() {
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := hardeningClient.Get(s.url + "/api/health")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return s
			}
		}
		if s.exited() || time.Now().After(deadline) {
			t.Fatalf("the portal did not start:\n%s", s.log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.done
}

// wait waits up to timeout for the process to exit and returns its exit code.
func (s *server) wait(timeout time.Duration) int {
	s.t.Helper()
	select {
	case <-s.done:
		return s.cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		s.t.Fatalf("the portal did not exit within %s:\n%s", timeout, s.log)
		return -1
	}
}

// request calls the server with a JSON body and decodes a JSON answer.
func (s *server) request(method, path, token, body string) (int, map[string]any, error) {
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := hardeningClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, nil, err
	}
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	out["_raw"] = string(raw)
	return res.StatusCode, out, nil
}

// must is request for setup steps: any error or an unexpected status fails.
func (s *server) must(want int, method, path, token, body string) map[string]any {
	s.t.Helper()
	status, out, err := s.request(method, path, token, body)
	if err != nil || status != want {
		s.t.Fatalf("%s %s: %d %v (want %d), %v", method, path, status, out["_raw"], want, err)
	}
	return out
}

// newDataDir migrates a fresh data dir and makes its operator.
func newDataDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "pb_data")
	cli(t, dir, "migrate", "up")
	cli(t, dir, "superuser", "upsert", operatorEmail, operatorPassword)
	return dir
}

// operatorToken logs the operator in.
func (s *server) operatorToken() string {
	s.t.Helper()
	out := s.must(http.StatusOK, http.MethodPost, "/api/collections/_superusers/auth-with-password", "",
		fmt.Sprintf(`{"identity":%q,"password":%q}`, operatorEmail, operatorPassword))
	return out["token"].(string)
}

// excludeLoopbackFromRateLimits is what an operator does for a load test:
// the loopback client is no longer throttled.
func (s *server) excludeLoopbackFromRateLimits(opToken string) {
	s.t.Helper()
	settings := s.must(http.StatusOK, http.MethodGet, "/api/settings", opToken, "")
	rl := settings["rateLimits"].(map[string]any)
	rl["excludedIPs"] = []string{"127.0.0.1"}
	body, _ := json.Marshal(map[string]any{"rateLimits": rl})
	s.must(http.StatusOK, http.MethodPatch, "/api/settings", opToken, string(body))
}

// customers makes n verified customers and returns their login tokens.
func (s *server) customers(opToken string, n int) []string {
	s.t.Helper()
	var tokens []string
	for i := range n {
		name := fmt.Sprintf("load%02d", i)
		s.must(http.StatusOK, http.MethodPost, "/api/collections/users/records", opToken, fmt.Sprintf(
			`{"email":"%s@example.com","password":%q,"passwordConfirm":%q,"userName":%q,"userFirstName":"Load","userLastName":"Tester","mobileNumber":"+1 555 0199","verified":true}`,
			name, customerPassword, customerPassword, name))
		out := s.must(http.StatusOK, http.MethodPost, "/login", "", fmt.Sprintf(`{"userName":%q,"password":%q}`, name, customerPassword))
		tokens = append(tokens, out["token"].(string))
	}
	return tokens
}

// sql runs a one-value query through PocketBase's SQL API (operators only)
// and returns the value as text.
func (s *server) sql(opToken, query string) string {
	s.t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	out := s.must(http.StatusOK, http.MethodPost, "/api/sql", opToken, string(body))
	rows, _ := out["rows"].([]any)
	if len(rows) != 1 {
		s.t.Fatalf("%s: %v", query, out["_raw"])
	}
	row, _ := rows[0].([]any)
	if len(row) != 1 {
		s.t.Fatalf("%s: %v", query, out["_raw"])
	}
	return fmt.Sprint(row[0])
}
