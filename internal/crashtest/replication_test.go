package crashtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/pocketbase/pocketbase/core"
)

// ack is one ticket answered 201.
type ack struct {
	content string
	at      time.Time
}

// writer sends tickets from clients goroutines (each waiting every between
// two tickets) until stop is closed; it records every 201 with the time its
// answer arrived, and the longest time a request waited.
type writer struct {
	mu       sync.Mutex
	acks     map[string]ack
	statuses map[int]int
	slowest  time.Duration
	wg       sync.WaitGroup
	stop     chan struct{}
}

func startWriter(s *server, tokens []string, clients int, every time.Duration, tag string) *writer {
	w := &writer{acks: map[string]ack{}, statuses: map[int]int{}, stop: make(chan struct{})}
	for c := range clients {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-w.stop:
					return
				default:
				}
				content := fmt.Sprintf("%s client %d ticket %d", tag, c, i)
				began := time.Now()
				status, out, err := s.request(http.MethodPost, "/sendTicket", tokens[c%len(tokens)], fmt.Sprintf(`{"ticketContent":%q}`, content))
				took := time.Since(began)
				if err != nil {
					continue // the server is gone: never answered
				}
				w.mu.Lock()
				w.statuses[status]++
				if took > w.slowest {
					w.slowest = took
				}
				if status == http.StatusCreated {
					if id, ok := ticketID(out); ok {
						w.acks[id] = ack{content, time.Now()}
					}
				}
				w.mu.Unlock()
				if every > 0 {
					time.Sleep(every)
				}
			}
		}()
	}
	return w
}

// halt stops the writer and waits for its requests to end.
func (w *writer) halt() {
	close(w.stop)
	w.wg.Wait()
}

func ticketID(out map[string]any) (string, bool) {
	for _, key := range []string{"id", "ticketId"} {
		if id, ok := out[key].(string); ok && id != "" {
			return id, true
		}
	}
	if rec, ok := out["ticket"].(map[string]any); ok {
		if id, ok := rec["id"].(string); ok {
			return id, true
		}
	}
	return "", false
}

// restore runs `restore` of the built binary into a new data dir.
func restore(t *testing.T, replica string, args ...string) (string, time.Duration) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "restored")
	began := time.Now()
	cmd := exec.Command(bin, append([]string{"restore", "--replica", replica, "--dir", dir}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	return dir, time.Since(began)
}

// restoredTickets checks the restored data dir (integrity, the server
// starts on it) and returns its tickets' contents by id.
func restoredTickets(t *testing.T, dir string) map[string]string {
	t.Helper()
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: dir})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	defer app.ClearBootstrap()
	var check []string
	if err := app.DB().NewQuery("PRAGMA integrity_check").Column(&check); err != nil || len(check) != 1 || check[0] != "ok" {
		t.Fatalf("integrity check of the restored data.db: %v %v", check, err)
	}
	var rows []struct {
		Id      string `db:"id"`
		Content string `db:"ticketContent"`
	}
	if err := app.DB().Select("id", "ticketContent").From("tickets").All(&rows); err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, r := range rows {
		found[r.Id] = r.Content
	}
	return found
}

// fakeS3 serves an in-memory S3 with one bucket and returns the replica URL
// for it and the environment the binary needs.
func fakeS3(t *testing.T) (string, []string) {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("portal"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	url := "s3://portal/replica?endpoint=" + srv.URL + "&region=us-east-1&forcePathStyle=true"
	env := []string{"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test-secret", "AWS_REGION=us-east-1"}
	for _, e := range env {
		k, v, _ := cut(e)
		t.Setenv(k, v) // for the restore command, run by this process
	}
	return url, env
}

func cut(s string) (string, string, bool) {
	for i := range len(s) {
		if s[i] == '=' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// crashAndRestore writes tickets from 4 clients as fast as they are
// answered, SIGKILLs the server, restores the replica into a new data dir
// and checks that every ticket answered more than a second before the kill
// is there. It logs the tickets lost and the age of the oldest lost
// acknowledgement (the RPO).
func crashAndRestore(t *testing.T, replica string, env ...string) {
	dir := newDataDir(t)
	s := startWith(t, dir, t.TempDir(), []string{"--replica=" + replica}, env...)
	op := s.operatorToken()
	s.excludeLoopbackFromRateLimits(op)
	tokens := s.customers(op, 4)
	w := startWriter(s, tokens, 4, 0, "crash")
	time.Sleep(4 * time.Second)
	s.kill()
	killed := time.Now()
	w.halt()

	restored, took := restore(t, replica)
	found := restoredTickets(t, restored)
	lost, oldest := 0, time.Duration(0)
	for id, a := range w.acks {
		if found[id] == a.content {
			continue
		}
		lost++
		if age := killed.Sub(a.at); age > oldest {
			oldest = age
		}
		if killed.Sub(a.at) > time.Second {
			t.Errorf("ticket %s (%q) was answered %s before the kill and is not in the replica", id, a.content, killed.Sub(a.at).Round(time.Millisecond))
		}
	}
	t.Logf("%d tickets answered 201 in 4 s; after SIGKILL the replica lacks %d of them, the oldest answered %s before the kill (RPO); restore took %s",
		len(w.acks), lost, oldest.Round(time.Millisecond), took.Round(time.Millisecond))
	if len(w.acks) < 20 {
		t.Fatalf("only %d tickets were answered: the load did not run (%v)", len(w.acks), w.statuses)
	}
}

// Replication to a directory: SIGKILL loses nothing answered more than a
// second before, and the restored database is sound.
func TestReplicaToAFileSurvivesSIGKILL(t *testing.T) {
	crashAndRestore(t, "file://"+filepath.Join(t.TempDir(), "replica"))
}

// The same through S3 (an in-process S3 server).
func TestReplicaToS3SurvivesSIGKILL(t *testing.T) {
	url, env := fakeS3(t)
	crashAndRestore(t, url, env...)
}

// restore --timestamp gives the state as of that time: what was written
// before is there, what came after is not.
func TestPointInTimeRestoreExcludesLaterWrites(t *testing.T) {
	replica := "file://" + filepath.Join(t.TempDir(), "replica")
	dir := newDataDir(t)
	s := startWith(t, dir, "", []string{"--replica=" + replica})
	op := s.operatorToken()
	s.excludeLoopbackFromRateLimits(op)
	tokens := s.customers(op, 1)
	send := func(tag string) map[string]string {
		sent := map[string]string{}
		for i := range 5 {
			content := fmt.Sprintf("%s %d", tag, i)
			out := s.must(http.StatusCreated, http.MethodPost, "/sendTicket", tokens[0], fmt.Sprintf(`{"ticketContent":%q}`, content))
			id, ok := ticketID(out)
			if !ok {
				t.Fatalf("no ticket id in %v", out["_raw"])
			}
			sent[id] = content
		}
		return sent
	}
	before := send("before")
	time.Sleep(1200 * time.Millisecond)
	at := time.Now().UTC().Truncate(time.Second)
	time.Sleep(time.Until(at.Add(1200 * time.Millisecond)))
	after := send("after")
	time.Sleep(1500 * time.Millisecond) // shipped to the replica

	// the operator sees the replica caught up; nobody else sees it
	status := s.must(http.StatusOK, http.MethodGet, "/api/portal/replication", op, "")
	if status["inSync"] != true || status["lagSeconds"] != float64(0) || status["replica"] != replica {
		t.Errorf("replication status after the writes shipped: %v", status["_raw"])
	}
	for who, token := range map[string]string{"anonymous": "", "customer": tokens[0]} {
		want := map[string]int{"anonymous": http.StatusUnauthorized, "customer": http.StatusForbidden}[who]
		if code, _, _ := s.request(http.MethodGet, "/api/portal/replication", token, ""); code != want {
			t.Errorf("%s: GET /api/portal/replication %d, want %d", who, code, want)
		}
	}
	if _, body := scrape(t, s, "Bearer "+op); sample(body, "ticketportal_replication_in_sync") != 1 ||
		sample(body, "ticketportal_replication_last_sync_timestamp_seconds") < float64(at.Unix()) {
		t.Errorf("the replication metrics do not show a replica in sync")
	}

	latest := restoredTickets(t, mustRestore(t, replica))
	past := restoredTickets(t, mustRestore(t, replica, "--timestamp", at.Format(time.RFC3339)))
	for id, content := range before {
		if past[id] != content || latest[id] != content {
			t.Errorf("ticket %q written before %s: in the point-in-time restore %v, in the latest %v", content, at.Format(time.RFC3339), past[id] != "", latest[id] != "")
		}
	}
	for id, content := range after {
		if past[id] != "" {
			t.Errorf("ticket %q written after %s is in the point-in-time restore", content, at.Format(time.RFC3339))
		}
		if latest[id] != content {
			t.Errorf("ticket %q is not in the latest restore", content)
		}
	}
}

func mustRestore(t *testing.T, replica string, args ...string) string {
	t.Helper()
	dir, _ := restore(t, replica, args...)
	return dir
}

// While replicating, a PocketBase backup (POST /api/backups) and the
// nightly database job (which this build replaces) run while a customer
// sends a ticket every 50 ms: no write waits more than a second.
func TestBackupAndNightlyJobDoNotStallWritesWhileReplicating(t *testing.T) {
	replica := "file://" + filepath.Join(t.TempDir(), "replica")
	dir := newDataDir(t)
	s := startWith(t, dir, "", []string{"--replica=" + replica})
	op := s.operatorToken()
	s.excludeLoopbackFromRateLimits(op)
	tokens := s.customers(op, 1)
	w := startWriter(s, tokens, 1, 50*time.Millisecond, "steady")
	time.Sleep(time.Second)
	began := time.Now()
	s.must(http.StatusNoContent, http.MethodPost, "/api/backups", op, `{"name":"during_writes.zip"}`)
	backup := time.Since(began)
	time.Sleep(500 * time.Millisecond)
	began = time.Now()
	s.must(http.StatusNoContent, http.MethodPost, "/api/crons/__pbDBOptimize__", op, "")
	job := time.Since(began)
	time.Sleep(time.Second)
	w.halt()
	t.Logf("backup took %s, the nightly job %s; %d tickets written meanwhile, the slowest waited %s",
		backup.Round(time.Millisecond), job.Round(time.Millisecond), len(w.acks), w.slowest.Round(time.Millisecond))
	if w.slowest > time.Second {
		t.Errorf("a write waited %s while the backup and the nightly job ran", w.slowest)
	}
	for status := range w.statuses {
		if status != http.StatusCreated {
			t.Errorf("writes answered %v", w.statuses)
		}
	}
	if len(w.acks) < 20 {
		t.Errorf("only %d tickets were written", len(w.acks))
	}
	if _, err := os.Stat(filepath.Join(dir, "backups", "during_writes.zip")); err != nil {
		t.Errorf("the backup was not written: %v", err)
	}
}

// The nightly job checkpoints PASSIVE: it leaves the WAL file as it is
// (PocketBase's own job truncates it to zero bytes).
func TestNightlyJobCheckpointsPassive(t *testing.T) {
	dir := newDataDir(t)
	s := start(t, dir)
	op := s.operatorToken()
	s.excludeLoopbackFromRateLimits(op)
	tokens := s.customers(op, 1)
	for i := range 20 {
		s.must(http.StatusCreated, http.MethodPost, "/sendTicket", tokens[0], fmt.Sprintf(`{"ticketContent":"wal %d"}`, i))
	}
	s.must(http.StatusNoContent, http.MethodPost, "/api/crons/__pbDBOptimize__", op, "")
	info, err := os.Stat(filepath.Join(dir, "data.db-wal"))
	if err != nil || info.Size() == 0 {
		t.Fatalf("data.db-wal after the nightly job: %v %v (a TRUNCATE checkpoint empties it)", info, err)
	}
}
