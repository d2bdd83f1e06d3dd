package routes_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/policy"
	"ticketportal/testapp"
)

// manyTickets gives bob n more tickets, one hour apart, and returns their ids
// newest first (the order of his list after his fixture ticket, which is newer).
func manyTickets(t testing.TB, app core.App, n int) []string {
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := make([]string, n)
	for i := range n {
		ids[n-1-i] = newTicket(t, app, testapp.OtherCustomerId, fmt.Sprintf("Question %d", i), base.Add(time.Duration(i)*time.Hour), nil)
	}
	return ids
}

func TestTicketListPages(t *testing.T) {
	var extra []string // bob's 110 extra tickets, newest first
	before := func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) { extra = manyTickets(t, app, 110) }
	bobs := func() []string { return append([]string{testapp.OtherTicketId}, extra...) } // 111, newest first

	cases := []struct {
		name, query string
		status      int
		content     string
		page        func() []string
		total, num  int
	}{
		{"first page by default", "", 200, `"page":1`, func() []string { return bobs()[:10] }, 111, 12},
		{"a middle page", "?page=3&limit=7", 200, `"page":3`, func() []string { return bobs()[14:21] }, 111, 16},
		{"the last, partial page", "?page=12", 200, `"page":12`, func() []string { return bobs()[110:] }, 111, 12},
		{"a page past the end", "?page=13", 200, `"data":[]`, func() []string { return []string{} }, 111, 12},
		{"a page far past the end", "?page=99999999999999999999", 200, `"data":[]`, func() []string { return []string{} }, 111, 12},
		{"a limit of 100", "?limit=100", 200, `"numOfItems":100`, func() []string { return bobs()[:100] }, 111, 2},
		{"a limit over 100 (taken as 100)", "?limit=1000", 200, `"numOfItems":100`, func() []string { return bobs()[:100] }, 111, 2},
		{"the second page of the largest limit", "?page=2&limit=500", 200, `"numOfItems":11`, func() []string { return bobs()[100:] }, 111, 2},
		{"a page of 0", "?page=0", 400, `"page":{"code":"validation_invalid_page"`, nil, 0, 0},
		{"a negative page", "?page=-1", 400, `"page":{"code":"validation_invalid_page"`, nil, 0, 0},
		{"a page that is not a number", "?page=two", 400, `"page":{"code":"validation_invalid_page"`, nil, 0, 0},
		{"a fractional page", "?page=1.5", 400, `"page":{"code":"validation_invalid_page"`, nil, 0, 0},
		{"a limit of 0", "?limit=0", 400, `"limit":{"code":"validation_invalid_limit"`, nil, 0, 0},
		{"a limit that is not a number", "?limit=ten", 400, `The limit parameter`, nil, 0, 0},
		{"an empty page", "?page=", 400, `The page parameter`, nil, 0, 0},
	}
	for _, c := range cases {
		s := tests.ApiScenario{
			Name:               "other customer lists own tickets: " + c.name,
			Method:             "GET",
			URL:                "/getUserTickets" + c.query,
			Headers:            testapp.Headers(t, testapp.OtherCustomer),
			ExpectedStatus:     c.status,
			ExpectedContent:    []string{c.content},
			NotExpectedContent: acctLeaks,
			TestAppFactory:     testapp.Factory,
			BeforeTestFunc:     before,
		}
		if c.page != nil {
			c := c
			s.AfterTestFunc = func(t testing.TB, app *tests.TestApp, res *http.Response) {
				check := listIs(c.page(), c.total, c.num)
				check(t, app, readAll(t, res))
			}
		}
		s.Test(t)
	}
}

func TestTicketListOrders(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2099, 1, 1, h, 0, 0, 0, time.UTC) }
	var ids map[string]string
	before := func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
		// created out of time order, so that only the sort can put them right
		ids = map[string]string{
			"normal1": newTicket(t, app, testapp.CustomerId, "normal, hour 1", at(1), nil),
			"closed4": newTicket(t, app, testapp.OtherCustomerId, "closed, hour 4", at(4), map[string]any{"ticketStatus": policy.StatusClosed}),
			"high0":   newTicket(t, app, testapp.OtherCustomerId, "high, hour 0", at(0), map[string]any{"isHighPriority": true}),
			"normal3": newTicket(t, app, testapp.OtherCustomerId, "normal, hour 3", at(3), nil),
			"high2":   newTicket(t, app, testapp.CustomerId, "high, hour 2", at(2), map[string]any{"isHighPriority": true}),
			"closed5": newTicket(t, app, testapp.CustomerId, "closed, hour 5, high", at(5), map[string]any{"ticketStatus": policy.StatusClosed, "isHighPriority": true}),
		}
	}
	order := func(names ...string) func() []string {
		return func() []string {
			out := make([]string, len(names))
			for i, n := range names {
				if id, ok := ids[n]; ok {
					out[i] = id
				} else {
					out[i] = n // a fixture id
				}
			}
			return out
		}
	}
	cases := []struct {
		name, caller, url string
		want              func() []string
	}{
		{"owner lists own tickets newest first", testapp.Owner, "/getUserTickets",
			order("closed5", "high2", "normal1", testapp.TicketId, testapp.TakenTicketId, testapp.ClosedTicketId)},
		{"admin lists the active queue high priority first, then newest", testapp.Admin, "/getAllActiveTickets",
			order("high2", "high0", testapp.OtherTicketId, "normal3", "normal1", testapp.TicketId, testapp.TakenTicketId)},
		{"superAdmin lists the closed tickets newest first", testapp.SuperAdmin, "/getAllClosedTickets",
			order("closed5", "closed4", testapp.ClosedTicketId)},
	}
	for _, c := range cases {
		c := c
		(&tests.ApiScenario{
			Name:               c.name,
			Method:             "GET",
			URL:                c.url,
			Headers:            testapp.Headers(t, c.caller),
			ExpectedStatus:     200,
			ExpectedContent:    []string{`"ticketAnswers":`},
			NotExpectedContent: acctLeaks,
			TestAppFactory:     testapp.Factory,
			BeforeTestFunc:     before,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
				want := c.want()
				listIs(want, len(want), 1)(t, app, readAll(t, res))
			},
		}).Test(t)
	}
}

// Every ticket in a list carries its answers, oldest first.
func TestTicketListAnswers(t *testing.T) {
	(&tests.ApiScenario{
		Name:           "admin lists the queue with each ticket's answers in order",
		Method:         "GET",
		URL:            "/getAllActiveTickets",
		Headers:        testapp.Headers(t, testapp.Admin),
		ExpectedStatus: 200,
		ExpectedContent: []string{
			`"ticketAnswers":[{"id":"` + testapp.AnswerId + `","answer":"Please reinstall the app.","createdAt":"`,
			`"answer":"Second answer."`,
		},
		NotExpectedContent: acctLeaks,
		TestAppFactory:     testapp.Factory,
		BeforeTestFunc: func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) {
			col, _ := app.FindCollectionByNameOrId(policy.Messages)
			for _, text := range []string{"Second answer.", "Third answer."} {
				a := core.NewRecord(col)
				a.Load(map[string]any{"ticket": testapp.TakenTicketId, "kind": policy.KindAnswer, "body": text, "authorId": testapp.AdminId})
				if err := app.Save(a); err != nil {
					t.Fatal(err)
				}
			}
		},
		AfterTestFunc: func(t testing.TB, app *tests.TestApp, res *http.Response) {
			b := decodeList(t, readAll(t, res))
			for _, ticket := range b.Data {
				answers, ok := ticket["ticketAnswers"].([]any)
				if !ok {
					t.Fatalf("ticket %v has no ticketAnswers", ticket["id"])
				}
				if ticket["id"] != testapp.TakenTicketId {
					if len(answers) != 0 {
						t.Errorf("ticket %v has answers %v", ticket["id"], answers)
					}
					continue
				}
				var texts []string
				for _, a := range answers {
					m := a.(map[string]any)
					for _, key := range []string{"id", "answer", "createdAt", "adminId"} {
						if m[key] == nil || m[key] == "" {
							t.Errorf("answer without %s: %v", key, m)
						}
					}
					texts = append(texts, m["answer"].(string))
				}
				if want := []string{"Please reinstall the app.", "Second answer.", "Third answer."}; !slices.Equal(texts, want) {
					t.Errorf("answers %v, want %v", texts, want)
				}
			}
		},
	}).Test(t)
}

// A deleted ticket is gone from every list and from the search.
func TestDeletedTicketsLeaveEveryList(t *testing.T) {
	app := testapp.New(t)
	base := testapp.Serve(t, app)
	boss := testapp.Token(t, testapp.SuperAdmin)
	for _, id := range []string{testapp.TicketId, testapp.ClosedTicketId, testapp.TakenTicketId} {
		if status, raw := call(t, "DELETE", base+"/deleteSpecificTicket/"+id, boss, ""); status != 200 {
			t.Fatalf("delete %s: %d %s", id, status, raw)
		}
	}
	lists := []struct{ url, caller string }{
		{"/getUserTickets", testapp.Owner},
		{"/getAllActiveTickets", testapp.Admin},
		{"/getAllClosedTickets", testapp.SuperAdmin},
	}
	for _, l := range lists {
		status, raw := call(t, "GET", base+l.url, testapp.Token(t, l.caller), "")
		b := decodeList(t, raw)
		if status != 200 {
			t.Fatalf("%s: %d %s", l.url, status, raw)
		}
		for _, id := range []string{testapp.TicketId, testapp.ClosedTicketId, testapp.TakenTicketId} {
			if slices.Contains(b.ids(), id) || strings.Contains(string(raw), id) {
				t.Errorf("%s still lists deleted ticket %s", l.url, id)
			}
		}
		if b.TotalNumOfItems != len(b.Data) {
			t.Errorf("%s: totalNumOfItems %d, but %d items", l.url, b.TotalNumOfItems, len(b.Data))
		}
	}
	if status, _ := call(t, "GET", base+"/searchForTicket/"+testapp.TicketId, boss, ""); status != 404 {
		t.Errorf("search for a deleted ticket: %d, want 404", status)
	}
	if n := answersOf(t, app, testapp.TakenTicketId); n != 0 {
		t.Errorf("%d answers of the deleted ticket remain", n)
	}
}
