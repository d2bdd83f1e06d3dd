package crashtest

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
)

// Killing the server with SIGKILL while customers send tickets loses no
// ticket whose request was answered 201, and leaves a sound database: a
// committed transaction is in SQLite's WAL file before the answer goes out,
// and the WAL survives the death of the process.
func TestSIGKILLUnderSendTicketLoadLosesNoAnsweredTicket(t *testing.T) {
	dir := newDataDir(t)
	acked := map[string]string{} // ticket id → the content sent
	var tokens []string
	for round := range 3 {
		s := start(t, dir)
		if round == 0 {
			op := s.operatorToken()
			s.excludeLoopbackFromRateLimits(op)
			tokens = s.customers(op, 4)
			// the binary opens data.db as the README says
			for query, want := range map[string]string{"PRAGMA journal_mode": "wal", "PRAGMA synchronous": "2"} {
				if got := s.sql(op, query); got != want {
					t.Fatalf("%s = %s, want %s", query, got, want)
				}
			}
		}
		got, statuses, rate := load(t, s, tokens, round, 100)
		for id, content := range got {
			acked[id] = content
		}
		t.Logf("round %d: %d tickets answered 201 before SIGKILL (%.0f/s with 8 clients), statuses %v", round, len(got), rate, statuses)
		for status := range statuses {
			if status >= 500 {
				t.Errorf("round %d: the load got %d answers", round, status)
			}
		}
		checkData(t, dir, acked)
	}
}

// load sends tickets from 8 concurrent clients and SIGKILLs the server once
// at least min of them were answered 201, with requests still in flight.
// It returns the answered tickets, the count of each status and the rate
// of 201s before the kill.
func load(t *testing.T, s *server, tokens []string, round, min int) (map[string]string, map[int]int, float64) {
	t.Helper()
	var (
		mu       sync.Mutex
		acked    = map[string]string{}
		statuses = map[int]int{}
		killed   = make(chan struct{})
		wg       sync.WaitGroup
	)
	began := time.Now()
	var elapsed time.Duration
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-killed:
					return
				default:
				}
				content := fmt.Sprintf("round %d client %d ticket %d", round, w, i)
				status, out, err := s.request(http.MethodPost, "/sendTicket", tokens[w%len(tokens)], fmt.Sprintf(`{"ticketContent":%q}`, content))
				if err != nil {
					continue // the server is gone: this one was never answered
				}
				// an answer read after the kill was still written by the
				// server before it died: it counts as well
				mu.Lock()
				statuses[status]++
				if id, ok := out["ticketId"].(string); ok && status == http.StatusCreated {
					acked[id] = content
				}
				n := len(acked)
				mu.Unlock()
				if n >= min {
					mu.Lock()
					select {
					case <-killed:
					default:
						elapsed = time.Since(began)
						close(killed)
						s.kill()
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the load did not reach %d tickets within a minute:\n%s", min, s.log)
	}
	if !s.exited() {
		t.Fatal("the server was not killed")
	}
	mu.Lock()
	defer mu.Unlock()
	return acked, statuses, float64(min) / elapsed.Seconds()
}

// checkData opens the data dir of a dead server and checks the database is
// sound and holds every acknowledged ticket.
func checkData(t *testing.T, dir string, acked map[string]string) {
	t.Helper()
	app := core.NewBaseApp(core.BaseAppConfig{DataDir: dir})
	if err := app.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	defer app.ClearBootstrap()
	var check []string
	if err := app.DB().NewQuery("PRAGMA integrity_check").Column(&check); err != nil || len(check) != 1 || check[0] != "ok" {
		t.Fatalf("integrity check: %v %v", check, err)
	}
	ids := make([]any, 0, len(acked))
	for id := range acked {
		ids = append(ids, id)
	}
	var rows []struct {
		Id            string `db:"id"`
		TicketContent string `db:"ticketContent"`
	}
	err := app.DB().Select("id", "ticketContent").From("tickets").Where(dbx.In("id", ids...)).All(&rows)
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, r := range rows {
		found[r.Id] = r.TicketContent
	}
	lost := 0
	for id, content := range acked {
		if found[id] != content {
			lost++
			if lost <= 5 {
				t.Errorf("ticket %s (%q) was answered 201 but is not in the database after SIGKILL", id, content)
			}
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged tickets lost", lost, len(acked))
	}
}
