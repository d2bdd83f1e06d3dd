package main

import (
	"fmt"
	"log"
	mathrand "math/rand"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/migrations"
	"ticketportal/policy"
)

// Words the search bench looks for, and how often the generator puts them
// in a ticket's first text.
const (
	rareWord    = "zanzibar" // about 1 ticket in 10,000
	commonWord  = "order"    // about 4 tickets in 10
	phraseWords = "credit card"
)

// textGen writes ticket text: words of a made-up vocabulary drawn with a
// Zipf law (a few words very common, most rare), like real language.
type textGen struct {
	vocab []string
	zipf  *mathrand.Zipf
}

func newTextGen() *textGen {
	src := mathrand.New(mathrand.NewSource(7))
	syll := []string{"ka", "lo", "mi", "ne", "su", "ta", "po", "ri", "de", "gu", "fa", "ho", "ve", "ly", "qu", "xo", "be", "wi", "ju", "ce"}
	seen := map[string]bool{rareWord: true, commonWord: true, "credit": true, "card": true}
	var vocab []string
	for len(vocab) < 20000 {
		n := 1 + src.Intn(4)
		w := ""
		for range n {
			w += syll[src.Intn(len(syll))]
		}
		if len(w) >= 3 && !seen[w] {
			seen[w] = true
			vocab = append(vocab, w)
		}
	}
	return &textGen{vocab: vocab, zipf: mathrand.NewZipf(src, 1.1, 2, uint64(len(vocab)-1))}
}

func (g *textGen) words(rng *rand.Rand, min, max int) string {
	n := min + rng.IntN(max-min+1)
	ws := make([]string, n)
	for i := range ws {
		ws[i] = g.vocab[g.zipf.Uint64()]
	}
	return strings.Join(ws, " ")
}

// ticket is a first text of 20 to 60 words with the bench's words sprinkled in.
func (g *textGen) ticket(rng *rand.Rand) string {
	parts := []string{g.words(rng, 10, 30)}
	if rng.IntN(10) < 4 {
		parts = append(parts, commonWord)
	}
	if rng.IntN(20) == 0 {
		parts = append(parts, phraseWords)
	}
	if rng.IntN(10000) == 0 {
		parts = append(parts, rareWord)
	}
	parts = append(parts, g.words(rng, 10, 30))
	return strings.Join(parts, " ")
}

// messages adds two to four messages (answers, replies and notes) to a ticket.
func (g *textGen) messages(tx core.App, rng *rand.Rand, ticketId string, created time.Time, stamp func(time.Time) string) error {
	kinds := []string{policy.KindAnswer, policy.KindReply, policy.KindNote}
	for i := range 2 + rng.IntN(3) {
		at := stamp(created.Add(time.Duration(i+1) * time.Hour))
		_, err := tx.DB().Insert(policy.Messages, dbx.Params{
			"id": newId(), "ticket": ticketId, "kind": kinds[rng.IntN(len(kinds))], "body": g.words(rng, 10, 40),
			"authorId": "benchadmin00000", "authorName": "agent0", "createdAt": at, "updatedAt": at,
		}).Execute()
		if err != nil {
			return err
		}
	}
	return nil
}

// waitIdle waits (at most two minutes) until the server uses under a tenth
// of a core: requests a wrk run left behind (a slow filter keeps running
// after wrk stops) must not eat into the next run.
func waitIdle(pid int) {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		before := cpuTime(pid)
		time.Sleep(500 * time.Millisecond)
		if cpuTime(pid)-before < 50*time.Millisecond {
			return
		}
	}
	log.Printf("the server stayed busy; measuring anyway")
}

func subjectOf(content string) string { return policy.DefaultSubject(content) }

// pauseSearchTriggers drops the index's triggers on tickets and messages for
// a bulk seed; the returned func builds the index once (the migration's own
// backfill) and puts the triggers back.
func pauseSearchTriggers(app core.App) (func() error, error) {
	names := []string{"tickets_search_ai", "messages_search_ai"}
	saved := map[string]string{}
	for _, n := range names {
		var sql string
		if err := app.DB().NewQuery("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = {:n}").Bind(dbx.Params{"n": n}).Row(&sql); err != nil {
			return nil, fmt.Errorf("trigger %s: %w", n, err)
		}
		saved[n] = sql
		if _, err := app.DB().NewQuery("DROP TRIGGER " + n).Execute(); err != nil {
			return nil, err
		}
	}
	return func() error {
		start := time.Now()
		if _, err := app.DB().NewQuery(migrations.SearchBackfill).Execute(); err != nil {
			return err
		}
		log.Printf("search index built in %s", time.Since(start).Round(time.Second))
		for _, n := range names {
			if _, err := app.DB().NewQuery(saved[n]).Execute(); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// searchBench measures /searchTickets against PocketBase's filter on the
// same data, the index's size, and /sendTicket with and without the index.
func searchBench(base, dataDir string, s *seeded, tickets int, d time.Duration, conns, rounds, pid int) {
	db, err := core.DefaultDBConnect(filepath.Join(dataDir, "data.db"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	pb := func(filter string) string {
		return "/api/collections/tickets/records?" + url.Values{"filter": {filter}, "perPage": {"10"}, "skipTotal": {"1"}}.Encode()
	}
	ours := func(q string) string { return "/searchTickets?" + url.Values{"q": {q}, "limit": {"10"}}.Encode() }
	pairs := [][2]target{
		{{"/searchTickets rare word", "GET", ours(rareWord), s.superAdminToken, ""},
			{"PB filter ticketContent~'" + rareWord + "'", "GET", pb("ticketContent~'" + rareWord + "'"), s.operatorToken, ""}},
		{{"/searchTickets common word", "GET", ours(commonWord), s.superAdminToken, ""},
			{"PB filter ticketContent~'" + commonWord + "'", "GET", pb("ticketContent~'" + commonWord + "'"), s.operatorToken, ""}},
		{{"/searchTickets phrase", "GET", ours(`"` + phraseWords + `"`), s.superAdminToken, ""},
			{"PB filter ticketContent~'" + phraseWords + "'", "GET", pb("ticketContent~'" + phraseWords + "'"), s.operatorToken, ""}},
		{{"/searchTickets rare word, admin (active only)", "GET", ours(rareWord), s.adminToken, ""},
			{"PB filter, admin", "GET", pb("ticketContent~'" + rareWord + "'"), s.adminToken, ""}},
	}
	send := target{"POST /sendTicket", "POST", "/sendTicket", s.customerToken,
		`{"ticketContent":"bench ticket %d: my order with the credit card has not arrived, please look into it"}`}

	type row struct {
		a, b   string
		ra, rb []result
	}
	var rows []row
	// warm the page cache and both sides once (not counted)
	if raw, err := os.ReadFile(filepath.Join(dataDir, "data.db")); err == nil {
		log.Printf("read %d MiB of data.db into the page cache", len(raw)>>20)
	}
	run := func(t target) result {
		waitIdle(pid)
		res, err := runWrk(base, t, d, conns, pid)
		if err != nil {
			log.Fatalf("%s: %v", t.name, err)
		}
		log.Printf("%-48s %8.1f req/s  p50 %-8s p99 %-8s non-2xx %d", t.name, res.rps, res.p50.Round(10*time.Microsecond), res.p99.Round(10*time.Microsecond), res.non2xx)
		return res
	}
	for _, p := range pairs {
		for _, t := range p {
			waitIdle(pid)
			runWrk(base, t, 2*time.Second, conns, pid)
		}
	}
	for _, p := range pairs {
		r := row{a: p[0].name, b: p[1].name}
		for range rounds {
			r.ra = append(r.ra, run(p[0]))
			r.rb = append(r.rb, run(p[1]))
		}
		rows = append(rows, r)
	}

	// similar tickets of an active ticket (no built-in counterpart)
	var activeId string
	if err := db.NewQuery("SELECT id FROM tickets WHERE ticketStatus = 'active' ORDER BY rowid LIMIT 1").Row(&activeId); err != nil {
		log.Fatal(err)
	}
	var similar []result
	for range rounds {
		similar = append(similar, run(target{"/similarTickets (limit 5)", "GET", "/similarTickets/" + activeId, s.superAdminToken, ""}))
	}

	// the write: /sendTicket with the index, then with its ticket trigger
	// dropped (the conversation's own triggers and hooks stay), in turns
	var trigger string
	if err := db.NewQuery("SELECT sql FROM sqlite_master WHERE name = 'tickets_search_ai'").Row(&trigger); err != nil {
		log.Fatal(err)
	}
	w := row{a: "POST /sendTicket with the search index", b: "POST /sendTicket without it"}
	for range rounds {
		w.ra = append(w.ra, run(send))
		if _, err := db.NewQuery("DROP TRIGGER tickets_search_ai").Execute(); err != nil {
			log.Fatal(err)
		}
		w.rb = append(w.rb, run(send))
		if _, err := db.NewQuery(trigger).Execute(); err != nil {
			log.Fatal(err)
		}
	}
	rows = append(rows, w)

	// sizes, from SQLite's own page accounting
	var sizes []struct {
		Name string `db:"name"`
		Size int64  `db:"size"`
	}
	if err := db.NewQuery("SELECT name, sum(pgsize) AS size FROM dbstat GROUP BY name").All(&sizes); err != nil {
		log.Fatal(err)
	}
	var index, data, total int64
	for _, sz := range sizes {
		total += sz.Size
		switch {
		case strings.HasPrefix(sz.Name, "ticketSearch") || strings.Contains(sz.Name, "ticketSearchDocs"):
			index += sz.Size
		case sz.Name == "tickets" || sz.Name == "messages" || strings.Contains(sz.Name, "_tickets") || strings.Contains(sz.Name, "_messages"):
			data += sz.Size
		}
	}
	var text int64
	var messages int64
	db.NewQuery("SELECT (SELECT sum(length(ticketContent) + length(ticketSubject)) FROM tickets) + (SELECT sum(length(body)) FROM messages)").Row(&text)
	db.NewQuery("SELECT count(*) FROM messages").Row(&messages)

	fmt.Printf("\n## Search — %s, %d tickets, %d messages, wrk -t1 -c%d, %d×%s A/B rounds, %d cores\n\n",
		time.Now().UTC().Format("2006-01-02"), tickets, messages, conns, rounds, d, nproc())
	fmt.Println("| portal | req/s | p50 | p99 | CPU/req | PocketBase built-in | req/s | p50 | p99 | CPU/req | req/s ratio | p50 ratio |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range rows {
		a, b := mean(r.ra), mean(r.rb)
		ratio, p50 := "—", "—"
		if b.requests > 0 && b.rps > 0 {
			ratio = fmt.Sprintf("%.2f×", a.rps/b.rps)
		}
		if a.p50 > 0 {
			p50 = fmt.Sprintf("%.2f×", float64(b.p50)/float64(a.p50))
		}
		fmt.Printf("| %s | %.1f | %s | %s | %s | %s | %.1f | %s | %s | %s | %s | %s |\n",
			r.a+errNote(a), a.rps, ms(a.p50), ms(a.p99), us(a.cpuPerRq), r.b+errNote(b), b.rps, ms(b.p50), ms(b.p99), us(b.cpuPerRq), ratio, p50)
	}
	sim := mean(similar)
	fmt.Printf("\n/similarTickets (limit 5) of an active ticket, as a superAdmin: %.1f req/s, p50 %s, p99 %s, CPU/req %s%s.\n",
		sim.rps, ms(sim.p50), ms(sim.p99), us(sim.cpuPerRq), errNote(sim))
	mib := func(n int64) float64 { return float64(n) / (1 << 20) }
	fmt.Printf("\nSizes: tickets and messages (tables and their indexes) %.0f MiB, of which %.0f MiB text; search index (documents + both FTS5 indexes) %.0f MiB = %.2f× the ticket data; whole database %.0f MiB.\n",
		mib(data), mib(text), mib(index), float64(index)/float64(max(data, 1)), mib(total))
	for _, sz := range sizes {
		if strings.HasPrefix(sz.Name, "ticketSearch") || sz.Name == "tickets" || sz.Name == "messages" {
			fmt.Printf("- %s: %.1f MiB\n", sz.Name, mib(sz.Size))
		}
	}
}
