package routes_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/policy"
	"ticketportal/rating"
	"ticketportal/settings"
	"ticketportal/sla"
	"ticketportal/testapp"
)

func get(t testing.TB, u string) (int, string) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

func postForm(t testing.TB, u string, v url.Values) (int, string) {
	t.Helper()
	res, err := http.PostForm(u, v)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

func ratedLines(t testing.TB, app core.App, id string) int {
	t.Helper()
	n, err := app.CountRecords(policy.History, dbx.HashExp{"ticket": id, "event": policy.EventRated})
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

var ratingLink = regexp.MustCompile(`https?://[^\s"<>]*/rateTicket\?token=([^&\s"<>]+)&(?:amp;)?score=(good|bad)`)

// Closing a ticket mails its customer two one-click links; a click records
// the rating (history "rated") and offers a comment; the rating can be
// changed (JSON or the page's form) within 7 days; then the link says it
// has expired and changes nothing; a tampered link is a 400 page.
func TestRatingByMailEndToEnd(t *testing.T) {
	app := testapp.New(t)
	srv := testapp.StartSMTP(t)
	srv.Use(t, app)
	base := testapp.Serve(t, app)
	now := time.Now().UTC()
	sla.SetClock(app, func() time.Time { return now })

	if st, body := call(t, "PATCH", base+"/markTicketStatus/"+testapp.TicketId, testapp.Token(t, testapp.Admin), `{"status":"markAsClosed"}`); st != 200 {
		t.Fatalf("close: %d %s", st, body)
	}
	m := srv.WaitFor(t, "alice@example.com", "[#"+testapp.TicketId+"]", 20*time.Second)
	links := ratingLink.FindAllStringSubmatch(m.Text, -1)
	if len(links) != 2 || links[0][2] != "good" || links[1][2] != "bad" || !strings.Contains(m.HTML, "score=good") {
		t.Fatalf("rating mail links: %v\n%s", links, m.Text)
	}
	token, _ := url.QueryUnescape(links[0][1])
	if !strings.HasPrefix(token, testapp.TicketId+".") {
		t.Fatalf("token %q is not for the ticket", token)
	}

	st, page := get(t, base+"/rateTicket?token="+url.QueryEscape(token)+"&score=good")
	if st != 200 || !strings.Contains(page, `name="comment"`) || !strings.Contains(page, `value="good" checked`) {
		t.Fatalf("one click: %d\n%s", st, page)
	}
	tk := mustFind(t, app, testapp.TicketId)
	if tk.GetString("rating") != "good" || ratedLines(t, app, tk.Id) != 1 {
		t.Fatalf("after the click: rating %q, %d rated lines", tk.GetString("rating"), ratedLines(t, app, tk.Id))
	}

	// Six days later the customer changes its mind, with a comment (JSON).
	now = now.Add(6 * 24 * time.Hour)
	st, raw := call(t, "POST", base+"/rateTicket", "", `{"token":"`+token+`","score":"bad","comment":"Took <b>long</b>."}`)
	body := string(raw)
	if st != 200 || !strings.Contains(body, `"rating":"bad"`) {
		t.Fatalf("change: %d %s", st, body)
	}
	// ...and through the page's form.
	st, page = postForm(t, base+"/rateTicket", url.Values{"token": {token}, "score": {"good"}, "comment": {"Fine in the end."}})
	if st != 200 || !strings.Contains(page, "Thank you") {
		t.Fatalf("form: %d %s", st, page)
	}
	tk = mustFind(t, app, testapp.TicketId)
	if tk.GetString("rating") != "good" || tk.GetString("ratingComment") != "Fine in the end." || ratedLines(t, app, tk.Id) != 3 {
		t.Fatalf("after the changes: %q %q, %d rated lines", tk.GetString("rating"), tk.GetString("ratingComment"), ratedLines(t, app, tk.Id))
	}
	// The comment shows escaped on the page.
	if _, err := app.DB().NewQuery("UPDATE tickets SET ratingComment = '<script>x</script>' WHERE id = {:id}").Bind(dbx.Params{"id": tk.Id}).Execute(); err != nil {
		t.Fatal(err)
	}
	if _, page = get(t, base+"/rateTicket?token="+url.QueryEscape(token)+"&score=good"); strings.Contains(page, "<script>x") {
		t.Errorf("the comment is not escaped:\n%s", page)
	}

	// Past 7 days: expired, nothing changes.
	now = now.Add(24*time.Hour + time.Minute)
	st, page = get(t, base+"/rateTicket?token="+url.QueryEscape(token)+"&score=bad")
	if st != http.StatusGone || !strings.Contains(page, "expired") {
		t.Errorf("expired link: %d\n%s", st, page)
	}
	st, raw = call(t, "POST", base+"/rateTicket", "", `{"token":"`+token+`","score":"bad"}`)
	body = string(raw)
	if st != http.StatusGone || !strings.Contains(body, "expired") {
		t.Errorf("expired JSON: %d %s", st, body)
	}
	if mustFind(t, app, testapp.TicketId).GetString("rating") != "good" {
		t.Error("an expired link changed the rating")
	}

	// Tampered: 400 page, nothing changes.
	now = now.Add(-3 * 24 * time.Hour)
	bad := token[:len(token)-2] + "xx"
	if bad == token {
		bad = token[:len(token)-2] + "yy"
	}
	other := strings.Replace(token, testapp.TicketId, testapp.OtherTicketId, 1)
	for _, tok := range []string{bad, other, "", "x.y.z"} {
		st, page = get(t, base+"/rateTicket?token="+url.QueryEscape(tok)+"&score=bad")
		if st != 400 || !strings.Contains(page, "not valid") {
			t.Errorf("tampered %q: %d\n%s", tok, st, page)
		}
	}
	if st, _ = get(t, base+"/rateTicket?token="+url.QueryEscape(token)+"&score=meh"); st != 400 {
		t.Errorf("a bad score: %d", st)
	}
	if mustFind(t, app, testapp.TicketId).GetString("rating") != "good" || mustFind(t, app, testapp.OtherTicketId).GetString("rating") != "" {
		t.Error("a tampered link changed a rating")
	}
}

// With csat off, closing mails no rating.
func TestNoRatingMailWhenCSATIsOff(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	r, _ := app.FindRecordById(settings.Collection, settings.RecordId)
	r.Set("csat", false)
	if err := app.Save(r); err != nil {
		t.Fatal(err)
	}
	tk := mustFind(t, app, testapp.TicketId)
	tk.Set("ticketStatus", policy.StatusClosed)
	if err := app.Save(tk); err != nil {
		t.Fatal(err)
	}
	n, _ := app.CountRecords("mailOutbox", dbx.NewExp("subject LIKE '[#%'"))
	if n != 0 {
		t.Errorf("%d rating mails with csat off", n)
	}
	r.Set("csat", true)
	if err := app.Save(r); err != nil {
		t.Fatal(err)
	}
	tk = mustFind(t, app, testapp.TakenTicketId)
	tk.Set("ticketStatus", policy.StatusClosed) // closed from Go/the dashboard: same mail
	if err := app.Save(tk); err != nil {
		t.Fatal(err)
	}
	if n, _ = app.CountRecords("mailOutbox", dbx.NewExp("subject = {:s}", dbx.Params{"s": "[#" + testapp.TakenTicketId + "] The app crashes on start."})); n != 1 {
		t.Errorf("%d rating mails with csat on, want 1", n)
	}
}

// fixtureRatingToken signs a token for TicketId with the fixture data's key
// (every test app is a copy of the same data dir).
func fixtureRatingToken(t testing.TB) string {
	app := testapp.New(t)
	defer app.Cleanup()
	key, err := rating.Key(app)
	if err != nil {
		t.Fatal(err)
	}
	return rating.NewToken(key, testapp.TicketId, time.Now())
}

// The token is the only credential: every kind of caller gets the same
// answer, whatever its session.
func TestRateTicketRoutes(t *testing.T) {
	token := fixtureRatingToken(t)
	rated := func(want string) func(testing.TB, *tests.TestApp, []byte) {
		return func(t testing.TB, app *tests.TestApp, _ []byte) {
			if got := mustFind(t, app, testapp.TicketId).GetString("rating"); got != want {
				t.Errorf("rating %q, want %q", got, want)
			}
		}
	}
	all := func(w callerWant) map[string]callerWant {
		return testapp.Each(w, callerKinds...)
	}
	asCallers(t, "clicks the good link", "GET", "/rateTicket?token="+url.QueryEscape(token)+"&score=good", "", nil,
		all(callerWant{status: 200, html: true, content: []string{"Thank you for your rating", `name="comment"`}, check: rated("good")}))
	asCallers(t, "posts a rating with a comment", "POST", "/rateTicket", `{"token":"`+token+`","score":"bad","comment":"slow"}`, nil,
		all(callerWant{status: 200, content: []string{`"rating":"bad"`, `"ratingComment":"slow"`}, check: rated("bad")}))
	asCallers(t, "clicks a tampered link", "GET", "/rateTicket?token="+url.QueryEscape(token+"x")+"&score=good", "", nil,
		all(callerWant{status: 400, html: true, content: []string{"not valid"}, check: rated(""), events: map[string]int{"OnRecordAfterUpdateSuccess": 0}}))
	last := "A"
	if strings.HasSuffix(token, "A") {
		last = "B"
	}
	asCallers(t, "posts with a tampered token", "POST", "/rateTicket", `{"token":"`+token[:len(token)-1]+last+`","score":"good"}`, nil,
		all(callerWant{status: 400, content: []string{`"status":400`}, check: rated("")}))
	for _, c := range []struct{ name, body, field string }{
		{"no score", `{"token":"` + token + `"}`, `"score"`},
		{"a bad score", `{"token":"` + token + `","score":"ok"}`, `"score"`},
		{"no token", `{"score":"good"}`, `"token"`},
		{"an unknown field", `{"token":"` + token + `","score":"good","rating":"good"}`, `"rating"`},
		{"a comment too long", `{"token":"` + token + `","score":"good","comment":"` + strings.Repeat("x", 2001) + `"}`, `"comment"`},
	} {
		acctRun(t, c.name, "POST", "/rateTicket", c.body, nil, nil, callerWant{status: 400, content: []string{c.field}, check: rated("")})
	}
}
