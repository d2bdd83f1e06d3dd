package routes_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/testapp"
)

// The service-level fields follow the ticket on every path, and a customer
// never sees them.
func TestServiceLevelFieldsFollowTheTicket(t *testing.T) {
	app := testapp.New(t)
	base := testapp.Serve(t, app)
	admin, boss := testapp.Token(t, testapp.Admin), testapp.Token(t, testapp.SuperAdmin)

	tk := mustFind(t, app, testapp.TicketId)
	sent := tk.GetDateTime("createdAt").Time()
	due := func(field string) time.Duration {
		return mustFind(t, app, testapp.TicketId).GetDateTime(field).Time().Sub(sent)
	}
	if due("firstResponseDueAt") != 8*time.Hour || due("resolveDueAt") != 72*time.Hour || due("dueAt") != 8*time.Hour || due("nextDueAt") != 8*time.Hour {
		t.Errorf("normal ticket: due %s / %s", due("firstResponseDueAt"), due("resolveDueAt"))
	}
	// A priority change counts from when the ticket was sent.
	if st, body := call(t, "PATCH", base+"/markAsHighPriority/"+testapp.TicketId, boss, ""); st != 200 {
		t.Fatalf("prioritize: %d %s", st, body)
	}
	if due("firstResponseDueAt") != time.Hour || due("resolveDueAt") != 8*time.Hour {
		t.Errorf("after prioritizing: due %s / %s, want 1h / 8h from sending", due("firstResponseDueAt"), due("resolveDueAt"))
	}
	// The first answer is the first response; the close resolves it.
	if st, body := call(t, "PATCH", base+"/sendAnswerOnTicket/"+testapp.TicketId, admin, `{"answer":"Here."}`); st != 200 {
		t.Fatalf("answer: %d %s", st, body)
	}
	tk = mustFind(t, app, testapp.TicketId)
	if tk.GetDateTime("firstRespondedAt").IsZero() || tk.GetString("firstRespondedBy") != testapp.AdminId || due("dueAt") != 8*time.Hour {
		t.Errorf("after the answer: %v", tk.FieldsData())
	}
	if st, body := call(t, "PATCH", base+"/sendAnswerOnTicket/"+testapp.TicketId, testapp.Token(t, "other admin"), `{"answer":"More."}`); st != 200 {
		t.Fatalf("second answer: %d %s", st, body)
	}
	if mustFind(t, app, testapp.TicketId).GetString("firstRespondedBy") != testapp.AdminId {
		t.Error("a later answer moved the first response")
	}
	if st, body := call(t, "PATCH", base+"/markTicketStatus/"+testapp.TicketId, admin, `{"status":"markAsClosed"}`); st != 200 {
		t.Fatalf("close: %d %s", st, body)
	}
	tk = mustFind(t, app, testapp.TicketId)
	if tk.GetDateTime("resolvedAt").IsZero() || tk.GetString("nextDueAt") != "" || tk.GetString("dueAt") != "" {
		t.Errorf("after closing: resolvedAt %q nextDueAt %q dueAt %q", tk.GetString("resolvedAt"), tk.GetString("nextDueAt"), tk.GetString("dueAt"))
	}

	// Nobody writes them through the record API (operators may mend them).
	url := base + "/api/collections/tickets/records/" + testapp.OtherTicketId
	if st, body := call(t, "PATCH", url, admin, `{"firstResponseDueAt":"2099-01-01 00:00:00.000Z"}`); st != 400 {
		t.Errorf("admin writes a deadline: %d %s", st, body)
	}
	if st, body := call(t, "PATCH", url, boss, `{"slaBreached":""}`); st != 400 {
		t.Errorf("superAdmin clears a breach: %d %s", st, body)
	}
	if st, body := call(t, "PATCH", url, testapp.Token(t, testapp.Operator), `{"resolveDueAt":"2099-01-01 00:00:00.000Z"}`); st != 200 {
		t.Errorf("operator mends a deadline: %d %s", st, body)
	}

	// Staff see them; the customer sees none of them, on any surface.
	fields := []string{`"firstResponseDueAt"`, `"resolveDueAt"`, `"firstRespondedAt"`, `"firstRespondedBy"`, `"resolvedAt"`, `"slaBreached"`, `"nextDueAt"`, `"dueAt"`}
	owner := testapp.Token(t, testapp.Owner)
	for _, u := range []string{"/getUserTickets", "/api/collections/tickets/records", "/api/collections/tickets/records/" + testapp.TakenTicketId,
		"/api/collections/messages/records?expand=ticket"} {
		st, body := call(t, "GET", base+u, owner, "")
		if st != 200 {
			t.Errorf("owner GET %s: %d", u, st)
		}
		for _, f := range fields {
			if strings.Contains(string(body), f) {
				t.Errorf("owner sees %s on %s", f, u)
			}
		}
	}
	st, body := call(t, "GET", base+"/getAllActiveTickets", admin, "")
	if st != 200 || !strings.Contains(string(body), `"firstResponseDueAt":"2`) || !strings.Contains(string(body), `"slaBreached"`) {
		t.Errorf("admin's queue lacks the deadlines: %d %s", st, body)
	}
}

// ?sort=due: the soonest deadline with work undone first.
func TestActiveQueueSortedByDeadline(t *testing.T) {
	app := testapp.New(t)
	base := testapp.Serve(t, app)
	admin := testapp.Token(t, testapp.Admin)
	// Fixtures: OtherTicket (high: first response in 1 h), TicketId (8 h),
	// TakenTicket (answered: resolve in 72 h). A new high-priority ticket
	// sent now is due after OtherTicket.
	id := newTicketFor(t, app)
	if st, body := call(t, "PATCH", base+"/markAsHighPriority/"+id, testapp.Token(t, testapp.SuperAdmin), ""); st != 200 {
		t.Fatalf("prioritize: %d %s", st, body)
	}
	st, body := call(t, "GET", base+"/getAllActiveTickets?sort=due&limit=10", admin, "")
	if st != 200 {
		t.Fatalf("sort=due: %d %s", st, body)
	}
	var res struct {
		Data            []struct{ Id string } `json:"data"`
		TotalNumOfItems int                   `json:"totalNumOfItems"`
	}
	if err := json.Unmarshal(body, &res); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range res.Data {
		got = append(got, d.Id)
	}
	want := []string{testapp.OtherTicketId, id, testapp.TicketId, testapp.TakenTicketId}
	if strings.Join(got, ",") != strings.Join(want, ",") || res.TotalNumOfItems != 4 {
		t.Errorf("order %v (total %d), want %v", got, res.TotalNumOfItems, want)
	}
	// Paging keeps the order.
	_, body = call(t, "GET", base+"/getAllActiveTickets?sort=due&limit=1&page=2", admin, "")
	if !strings.Contains(string(body), `"id":"`+id+`"`) {
		t.Errorf("page 2 of 1: %s", body)
	}
}

func newTicketFor(t testing.TB, app *tests.TestApp) string {
	t.Helper()
	col, err := app.FindCollectionByNameOrId("tickets")
	if err != nil {
		t.Fatal(err)
	}
	r := core.NewRecord(col)
	r.Set("customerId", testapp.CustomerId)
	r.Set("ticketContent", "Please help.")
	if err := app.Save(r); err != nil {
		t.Fatal(err)
	}
	return r.Id
}

func TestActiveQueueSortRoute(t *testing.T) {
	sorted := callerWant{status: 200, content: []string{`"totalNumOfItems":3`, `"dueAt":"2`}, events: map[string]int{"*": 0}}
	asCallers(t, "lists the queue by deadline", http.MethodGet, "/getAllActiveTickets?sort=due", "", nil, map[string]callerWant{
		testapp.Anonymous:     {status: 401, content: []string{`"status":401`}},
		testapp.Forged:        {status: 401, content: []string{`"status":401`}},
		testapp.Owner:         {status: 403, content: []string{`"status":403`}},
		testapp.OtherCustomer: {status: 403, content: []string{`"status":403`}},
		testapp.Unverified:    {status: 403, content: []string{`"status":403`}},
		testapp.Admin:         sorted,
		"other admin":         sorted,
		testapp.SuperAdmin:    sorted,
		testapp.Operator:      sorted,
	})
	for _, bad := range []string{"soon", "due,createdAt", "DUE", "dueAt"} {
		acctRun(t, "sort="+bad, http.MethodGet, "/getAllActiveTickets?sort="+bad, "", testapp.Headers(t, testapp.Admin), nil,
			callerWant{status: 400, content: []string{`"sort"`}})
	}
}

// A customer cannot learn a staff-only field by filtering or sorting the
// record API on it; staff can.
func TestStaffOnlyFieldsCannotBeFilteredByCustomers(t *testing.T) {
	for _, u := range []string{
		"/api/collections/tickets/records?filter=" + url.QueryEscape(`slaBreached=""`),
		"/api/collections/tickets/records?filter=" + url.QueryEscape(`firstResponseDueAt<@now`),
		"/api/collections/tickets/records?sort=dueAt",
		"/api/collections/messages/records?filter=" + url.QueryEscape(`ticket.resolveDueAt>@now`),
	} {
		acctRun(t, "owner filters "+u, http.MethodGet, u, "", testapp.Headers(t, testapp.Owner), nil,
			callerWant{status: 400, content: []string{"staff-only"}})
		acctRun(t, "admin filters "+u, http.MethodGet, u, "", testapp.Headers(t, testapp.Admin), nil,
			callerWant{status: 200, content: []string{`"items":`}})
	}
	acctRun(t, "owner filters on its own fields", http.MethodGet, "/api/collections/tickets/records?filter="+url.QueryEscape(`ticketStatus="active"`)+"&sort=-createdAt", "",
		testapp.Headers(t, testapp.Owner), nil, callerWant{status: 200, content: []string{`"totalItems":2`}})
}
