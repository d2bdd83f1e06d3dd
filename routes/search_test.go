package routes_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/policy"
	"ticketportal/store"
	"ticketportal/testapp"
)

// Tickets the search scenarios add to the fixtures: each holds "widget".
const (
	aliceWidgetActive = "widgetalice0001"
	aliceWidgetClosed = "widgetalice0002"
	bobWidgetActive   = "widgetbob000001"
	bobWidgetClosed   = "widgetbob000002"
)

// widgets stores four widget tickets (alice's and bob's, active and closed),
// a note with a word found nowhere else on alice's active one, and a tag on
// bob's active one.
func widgets(t testing.TB, app *tests.TestApp) {
	t.Helper()
	now := time.Now()
	newTicket(t, app, testapp.CustomerId, "My widget squeaks.", now, map[string]any{"id": aliceWidgetActive})
	newTicket(t, app, testapp.CustomerId, "The widget broke.", now, map[string]any{"id": aliceWidgetClosed, "ticketStatus": policy.StatusClosed})
	newTicket(t, app, testapp.OtherCustomerId, "Widget arrived late.", now, map[string]any{"id": bobWidgetActive, "tags": []string{"shipping"}})
	newTicket(t, app, testapp.OtherCustomerId, "Widget colour is wrong.", now, map[string]any{"id": bobWidgetClosed, "ticketStatus": policy.StatusClosed})
	if _, err := store.AddMessage(app, aliceWidgetActive, policy.KindNote, testapp.AdminId, "Zebracorn suspects a fraud attempt."); err != nil {
		t.Fatal(err)
	}
}

// foundIds checks the set of tickets a search answers (any order) and that
// each carries a snippet.
func foundIds(want ...string) func(testing.TB, *tests.TestApp, []byte) {
	return func(t testing.TB, _ *tests.TestApp, raw []byte) {
		t.Helper()
		b := decodeList(t, raw)
		got := b.ids()
		slices.Sort(got)
		w := slices.Clone(want)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("found %v, want %v", got, w)
		}
		if b.TotalNumOfItems != len(want) || b.NumOfItems != len(want) {
			t.Errorf("totalNumOfItems %d numOfItems %d, want %d", b.TotalNumOfItems, b.NumOfItems, len(want))
		}
		for _, d := range b.Data {
			if s, _ := d["snippet"].(string); !strings.Contains(s, "«") {
				t.Errorf("ticket %v has snippet %q", d["id"], s)
			}
		}
	}
}

func searchWant(ids ...string) callerWant {
	return callerWant{status: 200, content: []string{`"message":"Search results."`}, check: foundIds(ids...), events: noWrites}
}

func TestSearchTicketsPolicy(t *testing.T) {
	widgetsFor := map[string]callerWant{
		testapp.Owner:         searchWant(aliceWidgetActive, aliceWidgetClosed),
		testapp.OtherCustomer: searchWant(bobWidgetActive, bobWidgetClosed),
		testapp.Unverified:    searchWant(),
		testapp.Admin:         searchWant(aliceWidgetActive, bobWidgetActive),
		"other admin":         searchWant(aliceWidgetActive, bobWidgetActive),
		testapp.SuperAdmin:    searchWant(aliceWidgetActive, aliceWidgetClosed, bobWidgetActive, bobWidgetClosed),
		testapp.Operator:      searchWant(aliceWidgetActive, aliceWidgetClosed, bobWidgetActive, bobWidgetClosed),
	}
	asCallers(t, "searches a word of many tickets", "GET", "/searchTickets?q=widget", "", widgets,
		testapp.Merge(testapp.Each(unauthorized, outsiders...), widgetsFor))

	// a note's word: staff find it, a customer never, not even its own ticket
	noteWord := testapp.Merge(testapp.Each(unauthorized, outsiders...),
		testapp.Each(searchWant(), customers...),
		testapp.Each(searchWant(aliceWidgetActive), append(slices.Clone(agents), heads...)...))
	noteWord[testapp.Owner] = callerWant{status: 200, check: foundIds(), absent: []string{"Zebracorn", "zebracorn", "fraud"}, events: noWrites}
	asCallers(t, "searches a word only a note holds", "GET", "/searchTickets?q=zebracorn", "", widgets, noteWord)

	// excluding a note's word changes nothing for a customer
	asCallers(t, "leaves out a word only a note holds", "GET", "/searchTickets?q=widget+-zebracorn", "", widgets, testapp.Merge(
		testapp.Each(unauthorized, outsiders...),
		map[string]callerWant{
			testapp.Owner:         searchWant(aliceWidgetActive, aliceWidgetClosed),
			testapp.OtherCustomer: searchWant(bobWidgetActive, bobWidgetClosed),
			testapp.Unverified:    searchWant(),
			testapp.Admin:         searchWant(bobWidgetActive),
			"other admin":         searchWant(bobWidgetActive),
			testapp.SuperAdmin:    searchWant(aliceWidgetClosed, bobWidgetActive, bobWidgetClosed),
			testapp.Operator:      searchWant(aliceWidgetClosed, bobWidgetActive, bobWidgetClosed),
		}))

	// the customer's name and email are for staff
	asCallers(t, "searches a customer's email", "GET", "/searchTickets?q="+url.QueryEscape(`"bob@example.com"`), "", widgets, testapp.Merge(
		testapp.Each(unauthorized, outsiders...),
		testapp.Each(searchWant(), customers...),
		testapp.Each(searchWant(testapp.OtherTicketId, bobWidgetActive), agents...),
		testapp.Each(searchWant(testapp.OtherTicketId, bobWidgetActive, bobWidgetClosed), heads...)))

	// status and tag filters
	asCallers(t, "searches closed tickets", "GET", "/searchTickets?q=widget&status=closed", "", widgets, testapp.Merge(
		testapp.Each(unauthorized, outsiders...),
		testapp.Each(forbidden, agents...),
		map[string]callerWant{
			testapp.Owner:         searchWant(aliceWidgetClosed),
			testapp.OtherCustomer: searchWant(bobWidgetClosed),
			testapp.Unverified:    searchWant(),
		},
		testapp.Each(searchWant(aliceWidgetClosed, bobWidgetClosed), heads...)))
	asCallers(t, "searches by tag", "GET", "/searchTickets?q=widget&tag=Shipping", "", widgets, testapp.Merge(
		testapp.Each(unauthorized, outsiders...),
		testapp.Each(forbidden, customers...),
		testapp.Each(searchWant(bobWidgetActive), append(slices.Clone(agents), heads...)...)))
}

func TestSearchTicketsRanking(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	base := testapp.Serve(t, app)
	now := time.Now()
	inBody := newTicket(t, app, testapp.CustomerId, "Hello. Since Monday the office printer prints blank pages, and the toner is new.", now,
		map[string]any{"ticketSubject": "Blank pages"})
	inSubject := newTicket(t, app, testapp.CustomerId, "It makes a loud noise.", now, map[string]any{"ticketSubject": "Printer noise"})
	status, raw := call(t, "GET", base+"/searchTickets?q=printer", testapp.Token(t, testapp.SuperAdmin), "")
	if status != 200 {
		t.Fatalf("%d %s", status, raw)
	}
	b := decodeList(t, raw)
	if !slices.Equal(b.ids(), []string{inSubject, inBody}) {
		t.Errorf("order %v, want the subject match %s first", b.ids(), inSubject)
	}
	if s := b.Data[1]["snippet"]; s != "Hello. Since Monday the office «printer» prints blank pages, and the toner is new." {
		t.Errorf("snippet %q", s)
	}

	// a phrase, a prefix and paging
	status, raw = call(t, "GET", base+"/searchTickets?q="+url.QueryEscape(`"office printer" prin*`)+"&limit=1&page=1", testapp.Token(t, testapp.SuperAdmin), "")
	if b := decodeList(t, raw); status != 200 || !slices.Equal(b.ids(), []string{inBody}) || b.TotalNumOfItems != 1 {
		t.Errorf("phrase and prefix: %d %s", status, raw)
	}
	status, raw = call(t, "GET", base+"/searchTickets?q=printer&limit=1&page=2", testapp.Token(t, testapp.SuperAdmin), "")
	if b := decodeList(t, raw); status != 200 || !slices.Equal(b.ids(), []string{inBody}) || b.TotalNumOfItems != 2 || b.NumOfPages != 2 || b.Page != 2 {
		t.Errorf("page 2: %d %s", status, raw)
	}
	status, raw = call(t, "GET", base+"/searchTickets?q=printer&page=9", testapp.Token(t, testapp.SuperAdmin), "")
	if b := decodeList(t, raw); status != 200 || len(b.Data) != 0 || b.TotalNumOfItems != 2 {
		t.Errorf("past the end: %d %s", status, raw)
	}
}

// TestSearchMalformedQueries: nothing a caller types gives a 5xx; what the
// parser refuses is a 400 naming q.
func TestSearchMalformedQueries(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	base := testapp.Serve(t, app)
	refused := []string{`"unbalanced`, `-`, `*`, `- -`, `a*`, `-export`, `""`, `( )`, strings.Repeat("x", 5000),
		strings.Repeat("NEAR(a b) ", 500), strings.Repeat(`"`, 5001), "\xff\xfe", `(((`, `%_`, `*x*`, `x**`, `col:"a b"*`,
		`'; DROP TABLE tickets; --`}
	accepted := []string{`NEAR(`, `NEAR(a b, 2)`, `a OR b`, `a AND`, `NOT`, `export NOT`, `{subject}: x`, `subject:x`, `^x`, `x + y`,
		`"a" "b"`, `'quote'`, `x)`, `col:"ab cd"*`, `"a""b"`, `\"x\"`, "tab\there", `%_x`, `*xy*`, `xy**`, `日本語`, `🙂 smile`,
		`'; DROP TABLE tickets; -x`, `rank`, `ticketSearch`, `"-x"`, `x -"a b"`}
	for _, kind := range []string{testapp.Owner, testapp.Admin, testapp.SuperAdmin} {
		token := testapp.Token(t, kind)
		for _, q := range refused {
			status, raw := call(t, "GET", base+"/searchTickets?q="+url.QueryEscape(q), token, "")
			if status != 400 || !strings.Contains(string(raw), `"q":{"code":"validation_invalid_query"`) {
				t.Errorf("%s q=%.40q: %d %s", kind, q, status, raw)
			}
		}
		for _, q := range accepted {
			status, raw := call(t, "GET", base+"/searchTickets?q="+url.QueryEscape(q), token, "")
			if status != 200 {
				t.Errorf("%s q=%q: %d %s", kind, q, status, raw)
			}
		}
	}
	token := testapp.Token(t, testapp.SuperAdmin)
	for _, c := range []struct{ query, field string }{
		{"", "q"}, {"q=", "q"}, {"q=x&status=open", "status"}, {"q=x&tag=no%20spaces", "tag"},
		{"q=x&page=0", "page"}, {"q=x&limit=-1", "limit"},
	} {
		status, raw := call(t, "GET", base+"/searchTickets?"+c.query, token, "")
		if status != 400 || !strings.Contains(string(raw), `"`+c.field+`":{"code":`) {
			t.Errorf("?%s: %d %s", c.query, status, raw)
		}
	}
}

// TestSearchFollowsRecordAPI: writes through PocketBase's record and batch
// API reach the index in their own transaction, like the routes' writes.
func TestSearchFollowsRecordAPI(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	base := testapp.Serve(t, app)
	boss := testapp.Token(t, testapp.SuperAdmin)
	alice := testapp.Token(t, testapp.Owner)
	search := func(token, q string) []string {
		t.Helper()
		status, raw := call(t, "GET", base+"/searchTickets?q="+url.QueryEscape(q), token, "")
		if status != 200 {
			t.Fatalf("search %q: %d %s", q, status, raw)
		}
		return decodeList(t, raw).ids()
	}
	mustCall := func(method, path, token, body string, want int) []byte {
		t.Helper()
		status, raw := call(t, method, base+path, token, body)
		if status != want {
			t.Fatalf("%s %s: %d %s", method, path, status, raw)
		}
		return raw
	}

	// a ticket and a reply through the record API
	raw := mustCall("POST", "/api/collections/tickets/records", alice, `{"customerId":"`+testapp.CustomerId+`","ticketContent":"Kumquat export fails"}`, 200)
	var rec struct{ Id string }
	if err := json.Unmarshal(raw, &rec); err != nil {
		t.Fatal(err)
	}
	if got := search(alice, "kumquat"); !slices.Equal(got, []string{rec.Id}) {
		t.Errorf("record API ticket: %v", got)
	}
	mustCall("POST", "/api/collections/messages/records", alice, `{"ticket":"`+rec.Id+`","kind":"reply","authorId":"`+testapp.CustomerId+`","body":"Also persimmon"}`, 200)
	if got := search(alice, "persimmon"); !slices.Equal(got, []string{rec.Id}) {
		t.Errorf("record API reply: %v", got)
	}
	// a note through the batch API: staff find it, the owner does not
	mustCall("POST", "/api/batch", testapp.Token(t, testapp.Admin), `{"requests":[{"method":"POST","url":"/api/collections/messages/records","body":{"ticket":"`+rec.Id+`","kind":"note","authorId":"`+testapp.AdminId+`","body":"Tamarind internal"}}]}`, 200)
	if got := search(boss, "tamarind"); !slices.Equal(got, []string{rec.Id}) {
		t.Errorf("batch note, staff: %v", got)
	}
	if got := search(alice, "tamarind"); len(got) != 0 {
		t.Errorf("batch note, owner: %v", got)
	}
	// a profile change through the record API reaches the staff index
	mustCall("PATCH", "/api/collections/users/records/"+testapp.CustomerId, alice, `{"userLastName":"Quixotic"}`, 200)
	if got := search(boss, "quixotic"); len(got) != 4 {
		t.Errorf("new last name finds %v, want alice's 4 tickets", got)
	}
	// an operator edits a message, then deletes the ticket
	mustCall("PATCH", "/api/collections/messages/records/"+testapp.AnswerId, testapp.Token(t, testapp.Operator), `{"body":"Please use the rutabaga."}`, 200)
	if got := search(boss, "rutabaga"); !slices.Equal(got, []string{testapp.TakenTicketId}) {
		t.Errorf("edited answer: %v", got)
	}
	if got := search(boss, "reinstall"); len(got) != 0 {
		t.Errorf("the edited answer's old word: %v", got)
	}
	mustCall("DELETE", "/api/collections/tickets/records/"+rec.Id, boss, "", 204)
	for _, q := range []string{"kumquat", "persimmon", "tamarind"} {
		if got := search(boss, q); len(got) != 0 {
			t.Errorf("%s after delete: %v", q, got)
		}
	}
	// the index agrees with its documents
	for _, index := range []string{"ticketSearch", "ticketSearchPublic"} {
		if _, err := app.DB().NewQuery("INSERT INTO " + index + "(" + index + ") VALUES ('integrity-check')").Execute(); err != nil {
			t.Errorf("%s: %v", index, err)
		}
	}
}

// closedWithAnswer stores a closed ticket with one answer.
func closedWithAnswer(t testing.TB, app core.App, id, subject, content, answer string) {
	t.Helper()
	newTicket(t, app, testapp.OtherCustomerId, content, time.Now(), map[string]any{"id": id, "ticketSubject": subject})
	if answer != "" {
		if _, err := store.AddMessage(app, id, policy.KindAnswer, testapp.OtherAdminId, answer); err != nil {
			t.Fatal(err)
		}
	}
	r, err := app.FindRecordById(policy.Tickets, id)
	if err != nil {
		t.Fatal(err)
	}
	r.Set("ticketStatus", policy.StatusClosed)
	if err := app.Save(r); err != nil {
		t.Fatal(err)
	}
}

const (
	jamTicket     = "printerjam00001"
	similarJam    = "similarjam00001"
	similarWifi   = "similarwifi0001"
	similarNoAns  = "similarnoans001"
	similarBill   = "similarbill0001"
	openJamTicket = "printerjam00002"
)

// printers stores an active printer ticket and closed tickets more or less
// like it.
func printers(t testing.TB, app *tests.TestApp) {
	t.Helper()
	newTicket(t, app, testapp.CustomerId, "My printer has a paper jam in the tray again.", time.Now(), map[string]any{"id": jamTicket, "ticketSubject": "Printer paper jam"})
	newTicket(t, app, testapp.OtherCustomerId, "Paper jam in the printer tray.", time.Now(), map[string]any{"id": openJamTicket})
	closedWithAnswer(t, app, similarJam, "Paper jam", "The printer tray is stuck with paper.", "Open the tray and remove the jammed paper.")
	closedWithAnswer(t, app, similarWifi, "Printer offline", "The printer does not join the wifi.", "Restart the router, then the printer.")
	closedWithAnswer(t, app, similarNoAns, "Printer paper jam tray", "Printer paper jam tray.", "")
	closedWithAnswer(t, app, similarBill, "Invoice", "My invoice shows the wrong amount.", "We refunded the difference.")
}

func TestSimilarTickets(t *testing.T) {
	order := func(want ...string) func(testing.TB, *tests.TestApp, []byte) {
		return func(t testing.TB, _ *tests.TestApp, raw []byte) {
			t.Helper()
			b := decodeList(t, raw)
			if !slices.Equal(b.ids(), want) {
				t.Errorf("similar %v, want %v", b.ids(), want)
			}
			if len(b.Data) > 0 && b.Data[0]["lastAnswer"] != "Open the tray and remove the jammed paper." {
				t.Errorf("last answer %v", b.Data[0]["lastAnswer"])
			}
		}
	}
	// an admin may not read closed tickets: only four keys each
	adminShape := func(t testing.TB, _ *tests.TestApp, raw []byte) {
		t.Helper()
		for _, d := range decodeList(t, raw).Data {
			keys := make([]string, 0, len(d))
			for k := range d {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, []string{"closedAt", "id", "lastAnswer", "ticketSubject"}) {
				t.Errorf("an admin's entry has %v", keys)
			}
		}
	}
	staffWant := callerWant{status: 200, check: order(similarJam, similarWifi), events: noWrites}
	adminWant := staffWant
	adminWant.check = all(order(similarJam, similarWifi), adminShape)
	adminWant.absent = []string{"bob@example.com", "customerId", "Brown"}
	headWant := staffWant
	headWant.content = []string{`"customerUserName":"bob"`, `"messages":[`}
	asCallers(t, "asks for tickets like an active one", "GET", "/similarTickets/"+jamTicket, "", printers, testapp.Merge(
		gate(customers...),
		testapp.Each(adminWant, agents...),
		testapp.Each(headWant, heads...)))

	limited := headWant
	limited.check = order(similarJam)
	asCallers(t, "asks for one ticket like an active one", "GET", "/similarTickets/"+jamTicket+"?limit=1", "", printers, testapp.Merge(
		gate(customers...), testapp.Each(callerWant{status: 200, check: order(similarJam), events: noWrites}, agents...),
		testapp.Each(limited, heads...)))

	// a closed ticket is not the admins' to see
	asCallers(t, "asks for tickets like a closed one", "GET", "/similarTickets/"+similarWifi, "", printers, testapp.Merge(
		gate(customers...), testapp.Each(notFound, agents...),
		testapp.Each(callerWant{status: 200, check: order(similarJam), events: noWrites}, heads...)))
	asCallers(t, "asks for tickets like a missing one", "GET", "/similarTickets/nosuchticket123", "", printers, testapp.Merge(
		gate(customers...), testapp.Each(notFound, agents...), testapp.Each(notFound, heads...)))
	asCallers(t, "asks with a bad limit", "GET", "/similarTickets/"+jamTicket+"?limit=x", "", printers, testapp.Merge(
		gate(customers...), testapp.Each(callerWant{status: 400, content: []string{`"limit":{"code":`}, events: noWrites}, append(slices.Clone(agents), heads...)...)))
}
