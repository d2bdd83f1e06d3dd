package routes_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/policy"
	"ticketportal/testapp"
)

// Canned replies the scenarios add: one shared, one personal per agent.
const (
	cannedShared = "cannedshared001" // the boss's, shared
	cannedAgent1 = "cannedagent1001" // agent1's own
	cannedAgent2 = "cannedagent2001" // agent2's own
	cannedBoss   = "cannedboss00001" // the boss's own
)

func cannedReplies(t testing.TB, app *tests.TestApp) {
	t.Helper()
	col, err := app.FindCollectionByNameOrId(policy.CannedReplies)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id, title, owner string
		shared           bool
	}{
		{cannedShared, "Greeting", testapp.SuperAdminId, true},
		{cannedAgent1, "My refund steps", testapp.AdminId, false},
		{cannedAgent2, "Agent two's sign-off", testapp.OtherAdminId, false},
		{cannedBoss, "Escalation", testapp.SuperAdminId, false},
	} {
		r := core.NewRecord(col)
		r.Id = c.id
		r.Set("title", c.title)
		r.Set("body", "Hello {{customer.firstName}}, about ticket {{ticket.id}}.")
		r.Set("shared", c.shared)
		r.Set("ownerId", c.owner)
		if err := app.Save(r); err != nil {
			t.Fatal(err)
		}
	}
}

func cannedList(ids ...string) callerWant {
	return callerWant{status: 200, content: []string{`"message":"Canned replies."`}, check: listIs(ids, len(ids), min(len(ids), 1)), events: noWrites}
}

// cannedStored checks a canned reply's stored fields, or that it is gone
// (fields nil).
func cannedStored(id string, fields map[string]any) func(testing.TB, *tests.TestApp, []byte) {
	if fields == nil {
		return gone(policy.CannedReplies, id)
	}
	return stored(policy.CannedReplies, id, fields)
}

var (
	cannedRead = map[string]callerWant{
		testapp.Admin:      cannedList(cannedShared, cannedAgent1),
		"other admin":      cannedList(cannedShared, cannedAgent2),
		testapp.SuperAdmin: cannedList(cannedShared, cannedBoss),
		testapp.Operator:   cannedList(cannedShared),
	}
	cannedWrite = map[string]int{"OnRecordCreate": 0, "OnRecordUpdate": 1, "OnRecordDelete": 0}
)

func TestCannedRepliesList(t *testing.T) {
	asCallers(t, "lists canned replies", "GET", "/cannedReplies", "", cannedReplies, testapp.Merge(gate(customers...), cannedRead))
	asCallers(t, "looks for a canned reply", "GET", "/cannedReplies?q=refund", "", cannedReplies, testapp.Merge(gate(customers...),
		map[string]callerWant{testapp.Admin: cannedList(cannedAgent1), "other admin": cannedList(), testapp.SuperAdmin: cannedList(), testapp.Operator: cannedList()}))
	// the record API gives the same selection (the route is the rule's twin)
	recordList := func(n string) callerWant {
		return callerWant{status: 200, content: []string{`"totalItems":` + n}, events: noWrites}
	}
	asCallers(t, "lists canned replies through the record API", "GET", "/api/collections/cannedReplies/records", "", cannedReplies, testapp.Merge(
		testapp.Each(recordList("0"), outsiders...), testapp.Each(recordList("0"), customers...),
		testapp.Each(recordList("2"), agents...), map[string]callerWant{testapp.SuperAdmin: recordList("2"), testapp.Operator: recordList("4")}))
}

func TestCannedRepliesCreate(t *testing.T) {
	created := func(owner string, shared bool) callerWant {
		return callerWant{status: 201, content: []string{`"title":"Thanks"`, `"ownerId":"` + owner + `"`}, events: map[string]int{"OnRecordCreate": 1},
			check: func(t testing.TB, app *tests.TestApp, _ []byte) {
				t.Helper()
				recs, err := app.FindAllRecords(policy.CannedReplies)
				if err != nil || len(recs) != 1 || recs[0].GetString("ownerId") != owner || recs[0].GetBool("shared") != shared {
					t.Errorf("stored %v (%v)", recs, err)
				}
			}}
	}
	asCallers(t, "writes a personal canned reply", "POST", "/cannedReplies", `{"title":"Thanks","body":"Thank you, {{customer.firstName}}."}`, nil, testapp.Merge(
		gate(customers...), map[string]callerWant{
			testapp.Admin: created(testapp.AdminId, false), "other admin": created(testapp.OtherAdminId, false),
			testapp.SuperAdmin: created(testapp.SuperAdminId, false), testapp.Operator: created(testapp.OperatorId, false)}))
	asCallers(t, "writes a shared canned reply", "POST", "/cannedReplies", `{"title":"Thanks","body":"Thank you.","shared":true}`, nil, testapp.Merge(
		gate(customers...), testapp.Each(forbidden, agents...), map[string]callerWant{
			testapp.SuperAdmin: created(testapp.SuperAdminId, true), testapp.Operator: created(testapp.OperatorId, true)}))
	bad := func(field, code string) callerWant {
		return callerWant{status: 400, content: []string{`"` + field + `":{"code":"` + code + `"`}, events: noWrites}
	}
	for _, c := range []struct{ name, body, field, code string }{
		{"without a title", `{"body":"x"}`, "title", "validation_required"},
		{"with a blank body", `{"title":"x","body":"  "}`, "body", "validation_blank"},
		{"with a two-line title", `{"title":"a\nb","body":"x"}`, "title", "validation_invalid_title"},
		{"in another's name", `{"title":"x","body":"x","ownerId":"` + testapp.OtherAdminId + `"}`, "ownerId", "validation_unknown_field"},
	} {
		asCallers(t, "writes a canned reply "+c.name, "POST", "/cannedReplies", c.body, nil, testapp.Merge(
			gate(customers...), testapp.Each(bad(c.field, c.code), append(slices.Clone(agents), heads...)...)))
	}
}

func TestCannedRepliesEditDelete(t *testing.T) {
	edited := func(id string) callerWant {
		return callerWant{status: 200, content: []string{`"title":"New title"`}, events: cannedWrite, check: cannedStored(id, map[string]any{"title": "New title"})}
	}
	unchanged := func(w callerWant, id string) callerWant {
		w.check = cannedStored(id, map[string]any{"title": map[string]string{cannedShared: "Greeting", cannedAgent1: "My refund steps"}[id]})
		return w
	}
	body := `{"title":"New title"}`
	asCallers(t, "edits a personal canned reply", "PATCH", "/cannedReplies/"+cannedAgent1, body, cannedReplies, testapp.Merge(
		gate(customers...), map[string]callerWant{
			testapp.Admin: edited(cannedAgent1), "other admin": unchanged(notFound, cannedAgent1),
			testapp.SuperAdmin: unchanged(notFound, cannedAgent1), testapp.Operator: edited(cannedAgent1)}))
	asCallers(t, "edits a shared canned reply", "PATCH", "/cannedReplies/"+cannedShared, body, cannedReplies, testapp.Merge(
		gate(customers...), testapp.Each(unchanged(forbidden, cannedShared), agents...), testapp.Each(edited(cannedShared), heads...)))
	asCallers(t, "shares a personal canned reply", "PATCH", "/cannedReplies/"+cannedAgent1, `{"shared":true}`, cannedReplies, testapp.Merge(
		gate(customers...), map[string]callerWant{
			testapp.Admin: forbidden, "other admin": notFound, testapp.SuperAdmin: notFound,
			testapp.Operator: {status: 200, content: []string{`"shared":true`}, events: cannedWrite}}))

	deleted := func(id string) callerWant {
		return callerWant{status: 200, events: map[string]int{"OnRecordDelete": 1}, check: cannedStored(id, nil)}
	}
	kept := func(w callerWant, id string) callerWant {
		w.check = cannedStored(id, map[string]any{"ownerId": map[string]string{cannedShared: testapp.SuperAdminId, cannedAgent1: testapp.AdminId}[id]})
		return w
	}
	asCallers(t, "deletes a personal canned reply", "DELETE", "/cannedReplies/"+cannedAgent1, "", cannedReplies, testapp.Merge(
		gate(customers...), map[string]callerWant{
			testapp.Admin: deleted(cannedAgent1), "other admin": kept(notFound, cannedAgent1),
			testapp.SuperAdmin: kept(notFound, cannedAgent1), testapp.Operator: deleted(cannedAgent1)}))
	asCallers(t, "deletes a shared canned reply", "DELETE", "/cannedReplies/"+cannedShared, "", cannedReplies, testapp.Merge(
		gate(customers...), testapp.Each(kept(forbidden, cannedShared), agents...), testapp.Each(deleted(cannedShared), heads...)))
}

// TestCannedRepliesRecordAPI: the collection's rules say the same through
// PocketBase's own API.
func TestCannedRepliesRecordAPI(t *testing.T) {
	refused := func(status int) callerWant {
		return callerWant{status: status, content: []string{`"status":`}, events: noWrites}
	}
	ok := func(status int, events map[string]int) callerWant {
		return callerWant{status: status, content: []string{`{`}, events: events}
	}
	created := map[string]int{"OnRecordCreate": 1}
	asCallers(t, "adds a shared canned reply through the record API", "POST", "/api/collections/cannedReplies/records",
		`{"title":"x","body":"y","shared":true,"ownerId":"`+testapp.SuperAdminId+`"}`, nil, testapp.Merge(
			testapp.Each(refused(400), outsiders...), testapp.Each(refused(400), customers...), testapp.Each(refused(400), agents...),
			map[string]callerWant{testapp.SuperAdmin: ok(200, created), testapp.Operator: ok(200, created)}))
	asCallers(t, "adds a personal canned reply through the record API", "POST", "/api/collections/cannedReplies/records",
		`{"title":"x","body":"y","ownerId":"`+testapp.AdminId+`"}`, nil, testapp.Merge(
			testapp.Each(refused(400), outsiders...), testapp.Each(refused(400), customers...),
			map[string]callerWant{testapp.Admin: ok(200, created), "other admin": refused(400), testapp.SuperAdmin: refused(400), testapp.Operator: ok(200, created)}))
	updated := map[string]int{"OnRecordUpdate": 1}
	asCallers(t, "edits a shared canned reply through the record API", "PATCH", "/api/collections/cannedReplies/records/"+cannedShared,
		`{"title":"New"}`, cannedReplies, testapp.Merge(
			testapp.Each(refused(404), outsiders...), testapp.Each(refused(404), customers...), testapp.Each(refused(404), agents...),
			map[string]callerWant{testapp.SuperAdmin: ok(200, updated), testapp.Operator: ok(200, updated)}))
	asCallers(t, "gives a canned reply to another owner through the record API", "PATCH", "/api/collections/cannedReplies/records/"+cannedAgent1,
		`{"ownerId":"`+testapp.OtherAdminId+`"}`, cannedReplies, testapp.Merge(
			testapp.Each(refused(404), outsiders...), testapp.Each(refused(404), customers...), testapp.Each(refused(404), agents...),
			map[string]callerWant{testapp.SuperAdmin: refused(404), testapp.Operator: ok(200, updated)}))
	// a 204 has no body: these run as plain scenarios
	for kind, status := range map[string]int{
		testapp.Anonymous: 404, testapp.Owner: 404, testapp.OtherCustomer: 404, testapp.Admin: 204,
		"other admin": 404, testapp.SuperAdmin: 404, testapp.Operator: 204,
	} {
		events := noWrites
		if status == 204 {
			events = map[string]int{"OnRecordDelete": 1}
		}
		check := cannedStored(cannedAgent1, nil)
		if status != 204 {
			check = cannedStored(cannedAgent1, map[string]any{"ownerId": testapp.AdminId})
		}
		(&tests.ApiScenario{
			Name:            kind + " deletes a personal canned reply through the record API",
			Method:          "DELETE",
			URL:             "/api/collections/cannedReplies/records/" + cannedAgent1,
			Headers:         testapp.Headers(t, kind),
			ExpectedStatus:  status,
			ExpectedContent: map[bool][]string{true: nil, false: {`"status":404`}}[status == 204],
			ExpectedEvents:  events,
			TestAppFactory:  testapp.Factory,
			BeforeTestFunc:  func(t testing.TB, app *tests.TestApp, _ *core.ServeEvent) { cannedReplies(t, app) },
			AfterTestFunc:   func(t testing.TB, app *tests.TestApp, _ *http.Response) { check(t, app, nil) },
		}).Test(t)
	}
}
