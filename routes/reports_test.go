package routes_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/store"
	"ticketportal/testapp"
)

// reportFixture writes, with plain SQL (the report tables' triggers fill
// themselves as for any write), a few days of tickets whose report is
// worked out by hand in TestReportFigures. agent1 = A1, agent2 = A2.
func reportFixture(t testing.TB, app core.App) {
	t.Helper()
	exec := func(sql string, p dbx.Params) {
		t.Helper()
		if _, err := app.DB().NewQuery(sql).Bind(p).Execute(); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	type tk struct {
		id, created, status, fr, frBy, closed, breached, rating string
	}
	A1, A2 := testapp.AdminId, testapp.OtherAdminId
	for _, x := range []tk{
		{"rep000000000t00", "2025-02-27 10:00:00.000Z", "active", "", "", "", "", ""},
		{"rep000000000t01", "2025-02-27 11:00:00.000Z", "closed", "", "", "2025-02-28 09:00:00.000Z", "", ""},
		{"rep000000000t1a", "2025-03-01 08:00:00.000Z", "closed", "2025-03-01 08:10:00.000Z", A1, "2025-03-01 09:00:00.000Z", "", "good"},
		{"rep000000000t2a", "2025-03-01 12:00:00.000Z", "closed", "2025-03-01 12:30:00.000Z", A1, "2025-03-02 12:00:00.000Z", "", "bad"},
		{"rep000000000t3a", "2025-03-02 00:00:00.000Z", "active", "2025-03-02 02:00:00.000Z", A2, "", "firstResponse", ""},
		{"rep000000000t4a", "2025-03-02 06:00:00.000Z", "closed", "", "", "2025-03-03 00:00:00.000Z", "resolve", ""},
		{"rep000000000t5a", "2025-03-03 23:00:00.000Z", "active", "2025-03-03 23:05:00.000Z", A2, "", "", "good"},
		{"rep000000000t6a", "2025-03-04 10:00:00.000Z", "active", "2025-03-04 10:01:00.000Z", A1, "", "", "bad"},
	} {
		exec(`INSERT INTO tickets (id, customerId, customerUserName, ticketContent, ticketStatus, createdAt, updatedAt,
			firstRespondedAt, firstRespondedBy, closedAt, resolvedAt, slaBreached, rating, tags)
			VALUES ({:id}, {:c}, 'alice', 'x', {:st}, {:cr}, {:cr}, {:fr}, {:by}, {:cl}, {:cl}, {:br}, {:ra}, '[]')`,
			dbx.Params{"id": x.id, "c": testapp.CustomerId, "st": x.status, "cr": x.created, "fr": x.fr, "by": x.frBy, "cl": x.closed, "br": x.breached, "ra": x.rating})
	}
	for i, m := range [][3]string{
		{"rep000000000t1a", A1, "2025-03-01 08:10:00.000Z"},
		{"rep000000000t2a", A1, "2025-03-01 12:30:00.000Z"},
		{"rep000000000t2a", A1, "2025-03-02 08:00:00.000Z"},
		{"rep000000000t3a", A2, "2025-03-02 02:00:00.000Z"},
		{"rep000000000t5a", A2, "2025-03-03 23:05:00.000Z"},
		{"rep000000000t6a", A1, "2025-03-04 10:01:00.000Z"},
	} {
		exec(`INSERT INTO messages (id, ticket, kind, body, authorId, authorName, createdAt, updatedAt)
			VALUES ({:id}, {:t}, 'answer', 'a', {:a}, '', {:at}, {:at})`, dbx.Params{"id": "repmsg00000000" + string(rune('a'+i)), "t": m[0], "a": m[1], "at": m[2]})
	}
	for i, h := range [][3]string{
		{"rep000000000t01", A1, "2025-02-28 09:00:00.000Z"},
		{"rep000000000t1a", A1, "2025-03-01 09:00:00.000Z"},
		{"rep000000000t2a", A1, "2025-03-02 12:00:00.000Z"},
		{"rep000000000t4a", A2, "2025-03-03 00:00:00.000Z"},
	} {
		exec(`INSERT INTO ticketHistory (id, ticket, event, by, byName, detail, at)
			VALUES ({:id}, {:t}, 'closed', {:by}, '', '{}', {:at})`, dbx.Params{"id": "rephist0000000" + string(rune('a'+i)), "t": h[0], "by": h[1], "at": h[2]})
	}
}

func f(x float64) *float64 { return &x }

// The report of 2025-03-01..03 worked out by hand:
//
//	sent:     03-01 t1 t2, 03-02 t3 t4, 03-03 t5 (t0, t01 before; t6 after)
//	closed:   03-01 t1, 03-02 t2, 03-03 t4 (t01 on 02-28)
//	backlog:  before 2 sent - 1 closed = 1; 1+2-1 = 2; 2+2-1 = 3; 3+1-1 = 3
//	first response (min): t1 10, t2 30, t3 120, t5 5 -> sorted 5 10 30 120:
//	          median (10+30)/2 = 20, p90 = rank ceil(3.6) = 4th = 120
//	resolution (min): t1 60, t2 1440, t4 1080 -> median 1080, p90 3rd = 1440
//	breached: t3, t4 of 5 sent = 40 %; ratings: good t1 t5, bad t2
//	agent1: answers 3 (t1, t2 twice; t6 is after), closed 2 (t1, t2),
//	        median first response of t1, t2 = 20
//	agent2: answers 2, closed 1 (t4), median of 120 and 5 = 62.5
//	boss:   nothing
func TestReportFigures(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	reportFixture(t, app)
	from, _ := timeDay("2025-03-01")
	to, _ := timeDay("2025-03-03")
	r, err := store.BuildReport(app, from, to)
	if err != nil {
		t.Fatal(err)
	}
	want := &store.Report{
		Days: []store.ReportDay{
			{Day: "2025-03-01", Created: 2, Closed: 1, Backlog: 2},
			{Day: "2025-03-02", Created: 2, Closed: 1, Backlog: 3},
			{Day: "2025-03-03", Created: 1, Closed: 1, Backlog: 3},
		},
		FirstResponse:      store.Percentiles{MedianMinutes: f(20), P90Minutes: f(120)},
		Resolution:         store.Percentiles{MedianMinutes: f(1080), P90Minutes: f(1440)},
		SLABreachedPercent: 40,
		Ratings:            store.Ratings{Good: 2, Bad: 1},
		Agents: []store.AgentReport{
			{AdminId: testapp.AdminId, UserName: "agent1", Answers: 3, Closed: 2, MedianFirstResponseMinutes: f(20)},
			{AdminId: testapp.OtherAdminId, UserName: "agent2", Answers: 2, Closed: 1, MedianFirstResponseMinutes: f(62.5)},
			{AdminId: testapp.SuperAdminId, UserName: "boss"},
		},
	}
	got, _ := json.Marshal(r)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) {
		t.Errorf("report\n got %s\nwant %s", got, exp)
	}

	// A reopened ticket leaves the closed count of its day and returns to
	// the backlog (the triggers follow every write).
	if _, err := app.DB().NewQuery("UPDATE tickets SET ticketStatus = 'active', closedAt = '', resolvedAt = '' WHERE id = 'rep000000000t1a'").Execute(); err != nil {
		t.Fatal(err)
	}
	r, _ = store.BuildReport(app, from, to)
	if d := r.Days[0]; d.Closed != 0 || d.Backlog != 3 {
		t.Errorf("after reopening t1: %+v, want closed 0 backlog 3", d)
	}
	// Deleting a ticket takes it out of every count.
	if err := app.Delete(mustFind(t, app, "rep000000000t2a")); err != nil {
		t.Fatal(err)
	}
	r, _ = store.BuildReport(app, from, to)
	if d := r.Days[0]; d.Created != 1 || r.Ratings.Bad != 0 || r.Agents[0].Answers != 1 {
		t.Errorf("after deleting t2: %+v ratings %+v agent1 %+v", d, r.Ratings, r.Agents[0])
	}
}

func mustFind(t testing.TB, app core.App, id string) *core.Record {
	t.Helper()
	r, err := app.FindRecordById("tickets", id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestMedianAndP90(t *testing.T) {
	cases := []struct {
		in          []float64
		median, p90 *float64
	}{
		{nil, nil, nil},
		{[]float64{7}, f(7), f(7)},
		{[]float64{3, 1}, f(2), f(3)},
		{[]float64{5, 1, 3}, f(3), f(5)},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, f(5.5), f(9)},
		{[]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, f(6), f(10)},
		{[]float64{0.004, 0.006}, f(0.01), f(0.01)},
	}
	for _, c := range cases {
		m, p := store.Median(c.in), store.P90(c.in)
		if !same(m, c.median) || !same(p, c.p90) {
			t.Errorf("%v: median %v p90 %v, want %v %v", c.in, val(m), val(p), val(c.median), val(c.p90))
		}
	}
}

func same(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
func val(a *float64) any {
	if a == nil {
		return nil
	}
	return *a
}

func TestGetReportRoute(t *testing.T) {
	const url = "/getReport?from=2025-03-01&to=2025-03-03"
	fixture := func(t testing.TB, app *tests.TestApp) { reportFixture(t, app) }
	ok := callerWant{status: 200, content: []string{`"backlog":3`, `"slaBreachedPercent":40`, `"medianMinutes":20`, `"userName":"agent2"`}, events: map[string]int{"*": 0}}
	asCallers(t, "reads the report", http.MethodGet, url, "", fixture, map[string]callerWant{
		testapp.Anonymous:     {status: 401, content: []string{`"status":401`}},
		testapp.Forged:        {status: 401, content: []string{`"status":401`}},
		testapp.Owner:         {status: 403, content: []string{`"status":403`}, absent: []string{`backlog`}},
		testapp.OtherCustomer: {status: 403, content: []string{`"status":403`}},
		testapp.Unverified:    {status: 403, content: []string{`"status":403`}},
		testapp.Admin:         {status: 403, content: []string{`"status":403`}, absent: []string{`backlog`}},
		"other admin":         {status: 403, content: []string{`"status":403`}},
		testapp.SuperAdmin:    ok,
		testapp.Operator:      ok,
	})

	csvWant := callerWant{status: 200, content: []string{"day,created,closed,backlog\n2025-03-01,2,1,2\n2025-03-02,2,1,3\n2025-03-03,1,1,3\n"},
		headers: func(t testing.TB, h http.Header, _ []byte) {
			if !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || !strings.Contains(h.Get("Content-Disposition"), "report-2025-03-01-2025-03-03.csv") {
				t.Errorf("csv headers: %v", h)
			}
		}}
	for _, c := range []struct {
		name, url string
		w         callerWant
	}{
		{"the days as CSV", url + "&format=csv", csvWant},
		{"366 days is the longest range", "/getReport?from=2024-01-01&to=2024-12-31", callerWant{status: 200, content: []string{`"day":"2024-12-31"`, `"day":"2024-01-01"`}}},
		{"367 days is refused", "/getReport?from=2024-01-01&to=2025-01-01", callerWant{status: 400, content: []string{"at most 366 days"}}},
		{"to before from", "/getReport?from=2025-03-02&to=2025-03-01", callerWant{status: 400, content: []string{`"to"`}}},
		{"no dates", "/getReport", callerWant{status: 400, content: []string{`"from"`, `"to"`}}},
		{"not a date", "/getReport?from=2025-02-30&to=2025-03-01", callerWant{status: 400, content: []string{`"from"`}}},
		{"a date in another shape", "/getReport?from=1.3.2025&to=2025-03-01", callerWant{status: 400, content: []string{`"from"`}}},
		{"an unknown format", url + "&format=xml", callerWant{status: 400, content: []string{`"format"`}}},
		{"an injection attempt", "/getReport?from=2025-03-01'--&to=2025-03-03", callerWant{status: 400, content: []string{`"from"`}}},
	} {
		acctRun(t, c.name, http.MethodGet, c.url, "", testapp.Headers(t, testapp.SuperAdmin), fixture, c.w)
	}
}

// The report counts what the routes and hooks write today: a ticket sent,
// answered and closed by agent1 through the custom routes.
func TestReportFollowsTheRoutes(t *testing.T) {
	app := testapp.New(t)
	url := testapp.Serve(t, app)
	tok := testapp.Token(t, testapp.Admin)
	if st, body := testapp.Call(t, "PATCH", url+"/sendAnswerOnTicket/"+testapp.TicketId, tok, `{"answer":"Use the export button."}`); st != 200 {
		t.Fatalf("answer: %d %s", st, body)
	}
	if st, body := testapp.Call(t, "PATCH", url+"/markTicketStatus/"+testapp.TicketId, tok, `{"status":"markAsClosed"}`); st != 200 {
		t.Fatalf("close: %d %s", st, body)
	}
	today := mustFind(t, app, testapp.TicketId).GetDateTime("createdAt").Time().Format("2006-01-02")
	st, body := testapp.Call(t, "GET", url+"/getReport?from="+today+"&to="+today, testapp.Token(t, testapp.SuperAdmin), "")
	if st != 200 {
		t.Fatalf("report: %d %s", st, body)
	}
	var res struct {
		Data store.Report `json:"data"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	d := res.Data.Days[0]
	// fixtures: 4 tickets sent today, one closed; now one more closed
	if d.Created != 4 || d.Closed != 2 || d.Backlog != 2 {
		t.Errorf("today: %+v, want 4 sent, 2 closed, backlog 2", d)
	}
	for _, a := range res.Data.Agents {
		if a.AdminId == testapp.AdminId && (a.Answers != 1 || a.Closed != 1 || a.MedianFirstResponseMinutes == nil) {
			t.Errorf("agent1: %+v, want 1 answer, 1 closed and a first-response median", a)
		}
	}
	if res.Data.FirstResponse.MedianMinutes == nil || res.Data.Resolution.MedianMinutes == nil {
		t.Errorf("times: %+v %+v", res.Data.FirstResponse, res.Data.Resolution)
	}
}

func timeDay(s string) (time.Time, error) { return time.Parse("2006-01-02", s) }
