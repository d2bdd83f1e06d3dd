package store_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/store"
	"ticketportal/testapp"
)

// seedReportTickets writes n tickets spread over 400 days from 2025-01-01
// with plain SQL (the report triggers run as for any write): 80% closed,
// 90% answered (one answer message each, by one of 20 agents), 12% with a
// breach, a rating on 30%; plus a closed history line per closed ticket.
func seedReportTickets(tb testing.TB, app core.App, n int) {
	tb.Helper()
	agents := make([]string, 20)
	for i := range agents {
		a, _ := testapp.NewAdmin(tb, app, fmt.Sprintf("benchagent%02d", i))
		agents[i] = a.Id
	}
	ids, _ := json.Marshal(agents)
	steps := []string{
		`WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < ` + strconv.Itoa(n-1) + `),
		t AS (SELECT i, julianday('2025-01-01') + i * 400.0 / ` + strconv.Itoa(n) + ` AS c, abs(random()) % 100 AS r FROM s)
		INSERT INTO tickets (id, customerId, customerUserName, ticketContent, ticketStatus, createdAt, updatedAt,
			firstRespondedAt, firstRespondedBy, closedAt, resolvedAt, slaBreached, rating, tags, ticketSubject)
		SELECT printf('bench%010d', i), 'customer0000001', 'alice', 'x', CASE WHEN r < 80 THEN 'closed' ELSE 'active' END,
			strftime('%Y-%m-%d %H:%M:%fZ', c), strftime('%Y-%m-%d %H:%M:%fZ', c),
			CASE WHEN r % 10 != 9 THEN strftime('%Y-%m-%d %H:%M:%fZ', c + (r * 7 % 600) / 1440.0) ELSE '' END,
			CASE WHEN r % 10 != 9 THEN json_extract('` + string(ids) + `', '$[' || (i % 20) || ']') ELSE '' END,
			CASE WHEN r < 80 THEN strftime('%Y-%m-%d %H:%M:%fZ', c + (r * 53 % 4000) / 1440.0) ELSE '' END,
			CASE WHEN r < 80 THEN strftime('%Y-%m-%d %H:%M:%fZ', c + (r * 53 % 4000) / 1440.0) ELSE '' END,
			CASE WHEN r % 8 = 0 THEN 'resolve' ELSE '' END,
			CASE WHEN r % 10 < 2 THEN 'good' WHEN r % 10 = 2 THEN 'bad' ELSE '' END, '[]', 'x'
		FROM t`,
		`INSERT INTO messages (id, ticket, kind, body, authorId, authorName, createdAt, updatedAt)
		SELECT 'm' || substr(id, 2), id, 'answer', 'a', firstRespondedBy, '', firstRespondedAt, firstRespondedAt
		FROM tickets WHERE id LIKE 'bench%' AND firstRespondedAt != ''`,
		`INSERT INTO ticketHistory (id, ticket, event, by, byName, detail, at)
		SELECT 'h' || substr(id, 2), id, 'closed', json_extract('` + string(ids) + `', '$[' || (CAST(substr(tickets.id, 6) AS INTEGER) % 19) || ']'), '', '{}', closedAt
		FROM tickets WHERE id LIKE 'bench%' AND closedAt != ''`,
		`ANALYZE`,
	}
	for _, sql := range steps {
		if _, err := app.DB().NewQuery(sql).Execute(); err != nil {
			tb.Fatalf("seed: %v\n%s", err, sql)
		}
	}
}

// plainReport computes the same figures with plain GROUP BY queries over
// tickets, messages and ticketHistory (what a report costs without the
// per-day tables).
func plainReport(app core.App, from, to time.Time) (*store.Report, error) {
	fromDay, end := from.Format("2006-01-02"), to.AddDate(0, 0, 1).Format("2006-01-02")
	p := dbx.Params{"from": fromDay, "end": end}
	r := &store.Report{Days: []store.ReportDay{}, Agents: []store.AgentReport{}}
	type dayCount struct {
		D string `db:"d"`
		N int    `db:"n"`
	}
	var created, closed []dayCount
	if err := app.DB().NewQuery("SELECT substr(createdAt, 1, 10) AS d, COUNT(*) AS n FROM tickets WHERE createdAt >= {:from} AND createdAt < {:end} GROUP BY d").Bind(p).All(&created); err != nil {
		return nil, err
	}
	if err := app.DB().NewQuery("SELECT substr(closedAt, 1, 10) AS d, COUNT(*) AS n FROM tickets WHERE closedAt >= {:from} AND closedAt < {:end} GROUP BY d").Bind(p).All(&closed); err != nil {
		return nil, err
	}
	var before, closedBefore int
	if err := app.DB().NewQuery("SELECT COUNT(*) FROM tickets WHERE createdAt < {:from}").Bind(p).Row(&before); err != nil {
		return nil, err
	}
	if err := app.DB().NewQuery("SELECT COUNT(*) FROM tickets WHERE closedAt != '' AND closedAt < {:from}").Bind(p).Row(&closedBefore); err != nil {
		return nil, err
	}
	cm, xm := map[string]int{}, map[string]int{}
	for _, c := range created {
		cm[c.D] = c.N
	}
	for _, c := range closed {
		xm[c.D] = c.N
	}
	backlog := before - closedBefore
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		day := store.ReportDay{Day: d.Format("2006-01-02"), Created: cm[d.Format("2006-01-02")], Closed: xm[d.Format("2006-01-02")]}
		backlog += day.Created - day.Closed
		day.Backlog = backlog
		r.Days = append(r.Days, day)
	}
	var sums struct {
		N        int `db:"n"`
		Breached int `db:"b"`
		Good     int `db:"g"`
		Bad      int `db:"x"`
	}
	if err := app.DB().NewQuery(`SELECT COUNT(*) AS n, COALESCE(SUM(slaBreached != ''), 0) AS b, COALESCE(SUM(rating = 'good'), 0) AS g, COALESCE(SUM(rating = 'bad'), 0) AS x
		FROM tickets WHERE createdAt >= {:from} AND createdAt < {:end}`).Bind(p).One(&sums); err != nil {
		return nil, err
	}
	if sums.N > 0 {
		r.SLABreachedPercent = float64(int(10000*float64(sums.Breached)/float64(sums.N)+0.5)) / 100
	}
	r.Ratings = store.Ratings{Good: sums.Good, Bad: sums.Bad}
	var times []struct {
		First    *float64 `db:"fr"`
		Resolve  *float64 `db:"res"`
		Answerer string   `db:"firstRespondedBy"`
	}
	if err := app.DB().NewQuery(`SELECT CASE WHEN firstRespondedAt != '' THEN (julianday(firstRespondedAt) - julianday(createdAt)) * 1440 END AS fr,
		CASE WHEN resolvedAt != '' THEN (julianday(resolvedAt) - julianday(createdAt)) * 1440 END AS res, firstRespondedBy
		FROM tickets WHERE createdAt >= {:from} AND createdAt < {:end}`).Bind(p).All(&times); err != nil {
		return nil, err
	}
	var first, resolve []float64
	byAgent := map[string][]float64{}
	for _, t := range times {
		if t.First != nil {
			first = append(first, *t.First)
			byAgent[t.Answerer] = append(byAgent[t.Answerer], *t.First)
		}
		if t.Resolve != nil {
			resolve = append(resolve, *t.Resolve)
		}
	}
	r.FirstResponse = store.Percentiles{MedianMinutes: store.Median(first), P90Minutes: store.P90(first)}
	r.Resolution = store.Percentiles{MedianMinutes: store.Median(resolve), P90Minutes: store.P90(resolve)}
	var answers, closes []struct {
		Id string `db:"id"`
		N  int    `db:"n"`
	}
	if err := app.DB().NewQuery("SELECT authorId AS id, COUNT(*) AS n FROM messages WHERE kind = 'answer' AND createdAt >= {:from} AND createdAt < {:end} GROUP BY authorId").Bind(p).All(&answers); err != nil {
		return nil, err
	}
	if err := app.DB().NewQuery("SELECT by AS id, COUNT(*) AS n FROM ticketHistory WHERE event = 'closed' AND at >= {:from} AND at < {:end} GROUP BY by").Bind(p).All(&closes); err != nil {
		return nil, err
	}
	var admins []struct {
		Id       string `db:"id"`
		UserName string `db:"userName"`
	}
	if err := app.DB().Select("id", "userName").From("admins").All(&admins); err != nil {
		return nil, err
	}
	byId := map[string]*store.AgentReport{}
	for _, a := range admins {
		byId[a.Id] = &store.AgentReport{AdminId: a.Id, UserName: a.UserName}
	}
	for _, a := range answers {
		if x, ok := byId[a.Id]; ok {
			x.Answers = a.N
		}
	}
	for _, c := range closes {
		if x, ok := byId[c.Id]; ok {
			x.Closed = c.N
		}
	}
	for id, ts := range byAgent {
		if x, ok := byId[id]; ok {
			x.MedianFirstResponseMinutes = store.Median(ts)
		}
	}
	for _, a := range byId {
		r.Agents = append(r.Agents, *a)
	}
	sort.Slice(r.Agents, func(i, j int) bool { return r.Agents[i].UserName < r.Agents[j].UserName })
	return r, nil
}

// BenchmarkReport365Days: GET /getReport's work for 365 days over
// PORTAL_BENCH_TICKETS tickets (default 1,000,000), from the per-day tables
// and the covering index, against the same figures from plain GROUP BY
// queries; both must agree. Reports the p50 of single reports.
//
//	go test ./store -run '^$' -bench Report365Days -benchtime 15x -timeout 60m
func BenchmarkReport365Days(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("PORTAL_BENCH_TICKETS")); err == nil && v > 0 {
		n = v
	}
	app := testapp.New(b)
	defer app.Cleanup()
	start := time.Now()
	seedReportTickets(b, app, n)
	b.Logf("seeded %d tickets in %s", n, time.Since(start).Round(time.Second))
	from := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	to := from.AddDate(0, 0, 364)

	want, err := plainReport(app, from, to)
	if err != nil {
		b.Fatal(err)
	}
	got, err := store.BuildReport(app, from, to)
	if err != nil {
		b.Fatal(err)
	}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		b.Fatalf("the report differs from the plain GROUP BY figures:\n got %.600s\nwant %.600s", gj, wj)
	}
	for _, side := range []struct {
		name string
		fn   func(core.App, time.Time, time.Time) (*store.Report, error)
	}{{"perDayTables", store.BuildReport}, {"plainGroupBy", plainReport}} {
		b.Run(side.name, func(b *testing.B) {
			var each []time.Duration
			for b.Loop() {
				t0 := time.Now()
				if _, err := side.fn(app, from, to); err != nil {
					b.Fatal(err)
				}
				each = append(each, time.Since(t0))
			}
			slices.Sort(each)
			b.ReportMetric(float64(each[len(each)/2].Microseconds())/1000, "p50-ms")
		})
	}
}
