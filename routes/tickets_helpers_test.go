package routes_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/policy"
	"ticketportal/testapp"
)

// writes are the model events of a write; a refused request fires none.
var noWrites = map[string]int{"OnRecordCreate": 0, "OnRecordUpdate": 0, "OnRecordDelete": 0}

var (
	outsiders = []string{testapp.Anonymous, testapp.Forged}
	customers = []string{testapp.Owner, testapp.OtherCustomer, testapp.Unverified}
	agents    = []string{testapp.Admin, "other admin"}
	heads     = []string{testapp.SuperAdmin, testapp.Operator}

	unauthorized = callerWant{status: 401, content: []string{`"status":401`}, events: noWrites}
	forbidden    = callerWant{status: 403, content: []string{`"status":403`}, events: noWrites}
	notFound     = callerWant{status: 404, content: []string{`"status":404`}, events: noWrites}
)

// gate is the usual table head: outsiders get 401, the listed kinds 403.
func gate(forbiddenKinds ...string) map[string]callerWant {
	return testapp.Merge(testapp.Each(unauthorized, outsiders...), testapp.Each(forbidden, forbiddenKinds...))
}

// readAll reads a scenario's response body.
func readAll(t testing.TB, res *http.Response) []byte {
	t.Helper()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// listBody is a decoded list answer.
type listBody struct {
	Message         string           `json:"message"`
	Data            []map[string]any `json:"data"`
	Page            int              `json:"page"`
	NumOfItems      int              `json:"numOfItems"`
	TotalNumOfItems int              `json:"totalNumOfItems"`
	NumOfPages      int              `json:"numOfPages"`
}

func decodeList(t testing.TB, raw []byte) listBody {
	t.Helper()
	var b listBody
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatalf("not a list answer: %v\n%s", err, raw)
	}
	return b
}

// ids lists the ids of a list answer's items, in order.
func (b listBody) ids() []string {
	out := make([]string, len(b.Data))
	for i, d := range b.Data {
		out[i], _ = d["id"].(string)
	}
	return out
}

// listIs checks a list answer's ids (in order) and its counters.
func listIs(wantIds []string, total, pages int) func(testing.TB, *tests.TestApp, []byte) {
	return func(t testing.TB, _ *tests.TestApp, raw []byte) {
		t.Helper()
		b := decodeList(t, raw)
		if !slices.Equal(b.ids(), wantIds) {
			t.Errorf("ids = %v, want %v", b.ids(), wantIds)
		}
		if b.NumOfItems != len(wantIds) || b.TotalNumOfItems != total || b.NumOfPages != pages {
			t.Errorf("numOfItems=%d totalNumOfItems=%d numOfPages=%d, want %d %d %d",
				b.NumOfItems, b.TotalNumOfItems, b.NumOfPages, len(wantIds), total, pages)
		}
	}
}

// stored checks a stored record's fields after the request.
func stored(collection, id string, fields map[string]any) func(testing.TB, *tests.TestApp, []byte) {
	return func(t testing.TB, app *tests.TestApp, _ []byte) {
		t.Helper()
		r, err := app.FindRecordById(collection, id)
		if err != nil {
			t.Fatalf("%s %s: %v", collection, id, err)
		}
		for name, want := range fields {
			if got := r.Get(name); got != want {
				t.Errorf("%s.%s = %#v, want %#v", collection, name, got, want)
			}
		}
	}
}

// gone checks that a record is no longer stored.
func gone(collection, id string) func(testing.TB, *tests.TestApp, []byte) {
	return func(t testing.TB, app *tests.TestApp, _ []byte) {
		t.Helper()
		if _, err := app.FindRecordById(collection, id); err == nil {
			t.Errorf("%s %s is still stored", collection, id)
		}
	}
}

// unmarked checks that nobody marked a fixture ticket.
func unmarked(id string) func(testing.TB, *tests.TestApp, []byte) {
	return func(t testing.TB, app *tests.TestApp, _ []byte) {
		t.Helper()
		r, err := app.FindRecordById(policy.Tickets, id)
		if err != nil {
			t.Fatalf("ticket %s: %v", id, err)
		}
		if by := r.GetString("markedBy"); by != "" {
			t.Errorf("ticket %s was marked by %s", id, by)
		}
	}
}

// all runs several checks.
func all(checks ...func(testing.TB, *tests.TestApp, []byte)) func(testing.TB, *tests.TestApp, []byte) {
	return func(t testing.TB, app *tests.TestApp, raw []byte) {
		t.Helper()
		for _, c := range checks {
			c(t, app, raw)
		}
	}
}

// answersOf counts the stored answers of a ticket.
func answersOf(t testing.TB, app core.App, ticketId string) int {
	t.Helper()
	n, err := app.CountRecords(policy.Messages, dbx.HashExp{"ticket": ticketId, "kind": policy.KindAnswer})
	if err != nil {
		t.Fatal(err)
	}
	return int(n)
}

// newTicket stores a ticket of a customer with a chosen creation time.
func newTicket(t testing.TB, app core.App, customerId, content string, createdAt time.Time, fields map[string]any) string {
	t.Helper()
	col, err := app.FindCollectionByNameOrId(policy.Tickets)
	if err != nil {
		t.Fatal(err)
	}
	r := core.NewRecord(col)
	r.Load(fields)
	r.Set("customerId", customerId)
	r.Set("ticketContent", content)
	if err := app.Save(r); err != nil {
		t.Fatalf("new ticket: %v", err)
	}
	_, err = app.DB().NewQuery("UPDATE tickets SET createdAt = {:c} WHERE id = {:id}").
		Bind(dbx.Params{"c": createdAt.UTC().Format("2006-01-02 15:04:05.000Z"), "id": r.Id}).Execute()
	if err != nil {
		t.Fatal(err)
	}
	return r.Id
}

// newAdmin stores an agent and returns its id and a token.
func newAdmin(t testing.TB, app core.App, userName string) (string, string) {
	t.Helper()
	r, token := testapp.NewAdmin(t, app, userName)
	return r.Id, token
}

// call sends one request to a served app and returns status and body.
func call(t testing.TB, method, url, token, body string) (int, []byte) {
	t.Helper()
	return testapp.Call(t, method, url, token, body)
}
