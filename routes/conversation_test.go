package routes_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/types"

	"ticketportal/policy"
	"ticketportal/testapp"
)

const noteText = "Internal: refund approved by finance"

// withNote puts a staff note (and a tag) on alice's taken ticket before the
// request, so that every read below can show it never reaches a customer.
func withNote(t testing.TB, app *tests.TestApp) {
	col, _ := app.FindCollectionByNameOrId(policy.Messages)
	n := core.NewRecord(col)
	n.Load(map[string]any{"ticket": testapp.TakenTicketId, "kind": policy.KindNote, "body": noteText, "authorId": testapp.AdminId})
	if err := app.Save(n); err != nil {
		t.Fatal(err)
	}
	tk, _ := app.FindRecordById(policy.Tickets, testapp.TakenTicketId)
	tk.Set("tags", []string{"vip-secret"})
	if err := app.Save(tk); err != nil {
		t.Fatal(err)
	}
}

// closedDaysAgo moves the closing of alice's closed ticket into the past.
func closedDaysAgo(days int) func(testing.TB, *tests.TestApp) {
	return func(t testing.TB, app *tests.TestApp) {
		at := types.NowDateTime().Add(-time.Duration(days) * 24 * time.Hour)
		if _, err := app.DB().Update(policy.Tickets, dbx.Params{"closedAt": at.String()}, dbx.HashExp{"id": testapp.ClosedTicketId}).Execute(); err != nil {
			t.Fatal(err)
		}
	}
}

// historyHas checks that the ticket's history has a line of event by the account.
func historyHas(ticketId, event, by string) func(testing.TB, *tests.TestApp, []byte) {
	return func(t testing.TB, app *tests.TestApp, _ []byte) {
		t.Helper()
		if _, err := app.FindFirstRecordByFilter(policy.History, "ticket = {:t} && event = {:e} && by = {:b}",
			dbx.Params{"t": ticketId, "e": event, "b": by}); err != nil {
			t.Errorf("no %q history line by %q on %s", event, by, ticketId)
		}
	}
}

func both(checks ...func(testing.TB, *tests.TestApp, []byte)) func(testing.TB, *tests.TestApp, []byte) {
	return func(t testing.TB, app *tests.TestApp, raw []byte) {
		for _, c := range checks {
			c(t, app, raw)
		}
	}
}

func TestGetTicket(t *testing.T) {
	url := "/getTicket/" + testapp.TakenTicketId
	staffSees := callerWant{status: 200, content: []string{`"ticketSubject":"The app crashes on start."`, `"kind":"note"`, noteText, `"tags":["vip-secret"]`,
		`"ticketAnswers":[{"id":"` + testapp.AnswerId + `","answer":"Please reinstall the app."`, `"takenByName":"agent2"`, `"waitingOn":"customer"`}, events: noWrites}
	asCallers(t, "views alice's taken ticket", "GET", url, "", withNote, testapp.Merge(
		testapp.Each(unauthorized, outsiders...),
		map[string]callerWant{
			testapp.Owner: {status: 200, content: []string{`"messages":[{"id":"` + testapp.AnswerId + `","kind":"answer","body":"Please reinstall the app."`, `"attachments":[]`, `"followUpOf":""`, `"rating":""`},
				absent: []string{noteText, `"kind":"note"`, `vip-secret`, `"tags"`}, events: noWrites},
			testapp.OtherCustomer: notFound,
		},
		testapp.Each(staffSees, testapp.Admin, "other admin", testapp.SuperAdmin, testapp.Operator),
	))
	asCallers(t, "views alice's closed ticket", "GET", "/getTicket/"+testapp.ClosedTicketId, "", nil, testapp.Merge(
		testapp.Each(unauthorized, outsiders...),
		testapp.Each(notFound, testapp.OtherCustomer, testapp.Admin),
		testapp.Each(callerWant{status: 200, content: []string{`"ticketStatus":"closed"`}, events: noWrites}, testapp.Owner, testapp.SuperAdmin, testapp.Operator),
	))
	asCallers(t, "views an unknown ticket", "GET", "/getTicket/ticket999999999", "", nil, testapp.Merge(
		testapp.Each(unauthorized, outsiders...),
		testapp.Each(notFound, testapp.Owner, testapp.OtherCustomer, testapp.Admin, testapp.SuperAdmin, testapp.Operator),
	))
}

func TestReplyOnTicket(t *testing.T) {
	body := `{"reply":"It still crashes."}`
	replied := callerWant{status: 201, content: []string{`"kind":"reply","body":"It still crashes."`, `"waitingOn":"agent"`, `"authorName":"alice"`},
		absent: []string{noteText, "vip-secret"},
		events: map[string]int{"OnRecordCreate": 2, "OnRecordUpdate": 1}, // the reply, its history line; the ticket
		check:  both(historyHas(testapp.TakenTicketId, policy.EventReplied, testapp.CustomerId), stored(policy.Tickets, testapp.TakenTicketId, map[string]any{"waitingOn": "agent", "ticketStatus": "active"}))}
	asCallers(t, "replies on alice's ticket", "POST", "/replyOnTicket/"+testapp.TakenTicketId, body, withNote, testapp.Merge(
		gate(testapp.Admin, "other admin", testapp.SuperAdmin, testapp.Operator),
		map[string]callerWant{testapp.Owner: replied, testapp.OtherCustomer: notFound},
	))
	asCallers(t, "replies with nothing", "POST", "/replyOnTicket/"+testapp.TicketId, `{"reply":"  "}`, nil, testapp.Merge(
		gate(testapp.Admin, testapp.SuperAdmin, testapp.Operator),
		map[string]callerWant{testapp.Owner: {status: 400, content: []string{`"reply":{"code":"validation_blank"`}, events: noWrites}, testapp.OtherCustomer: notFound},
	))

	// closed 3 days ago, window 14: the reply reopens the ticket, free
	asCallers(t, "replies on a ticket closed 3 days ago", "POST", "/replyOnTicket/"+testapp.ClosedTicketId, body, closedDaysAgo(3), testapp.Merge(
		gate(testapp.Admin, testapp.SuperAdmin, testapp.Operator),
		map[string]callerWant{
			testapp.Owner: {status: 201, content: []string{`"id":"` + testapp.ClosedTicketId + `"`, `"ticketStatus":"active"`, `"takenBy":""`, "reopened"},
				check: both(historyHas(testapp.ClosedTicketId, policy.EventReopened, testapp.CustomerId), historyHas(testapp.ClosedTicketId, policy.EventReplied, testapp.CustomerId),
					stored(policy.Tickets, testapp.ClosedTicketId, map[string]any{"ticketStatus": "active"}), func(t testing.TB, app *tests.TestApp, _ []byte) {
						if tk, _ := app.FindRecordById(policy.Tickets, testapp.ClosedTicketId); !tk.GetDateTime("closedAt").IsZero() {
							t.Error("a reopened ticket keeps its closedAt")
						}
					})},
			testapp.OtherCustomer: notFound,
		},
	))
	// closed 20 days ago: a follow-up ticket with the same subject
	asCallers(t, "replies on a ticket closed 20 days ago", "POST", "/replyOnTicket/"+testapp.ClosedTicketId, body, closedDaysAgo(20), testapp.Merge(
		gate(testapp.Admin, testapp.SuperAdmin, testapp.Operator),
		map[string]callerWant{
			testapp.Owner: {status: 201, content: []string{`"followUpOf":"` + testapp.ClosedTicketId + `"`, `"ticketSubject":"My invoice was wrong."`, `"ticketContent":"It still crashes."`, `"ticketStatus":"active"`, "new ticket"},
				check: both(stored(policy.Tickets, testapp.ClosedTicketId, map[string]any{"ticketStatus": "closed"}), func(t testing.TB, app *tests.TestApp, _ []byte) {
					if _, err := app.FindFirstRecordByFilter(policy.Tickets, "followUpOf = {:f} && customerId = {:c}", dbx.Params{"f": testapp.ClosedTicketId, "c": testapp.CustomerId}); err != nil {
						t.Error("no follow-up ticket stored")
					}
				})},
			testapp.OtherCustomer: notFound,
		},
	))
	// a window of 0: never reopens
	zero := func(t testing.TB, app *tests.TestApp) {
		r, _ := app.FindRecordById("portalSettings", "portalsettings1")
		r.Set("reopenWindowDays", 0)
		if err := app.Save(r); err != nil {
			t.Fatal(err)
		}
	}
	asCallers(t, "replies on a closed ticket with a window of 0", "POST", "/replyOnTicket/"+testapp.ClosedTicketId, body, zero, testapp.Merge(
		gate(testapp.Admin, testapp.SuperAdmin, testapp.Operator),
		map[string]callerWant{
			testapp.Owner:         {status: 201, content: []string{`"followUpOf":"` + testapp.ClosedTicketId + `"`}},
			testapp.OtherCustomer: notFound,
		},
	))
}

func TestAddNoteOnTicket(t *testing.T) {
	body := `{"note":"Customer called, see CRM."}`
	noted := func(id string) callerWant {
		return callerWant{status: 201, content: []string{`"kind":"note","body":"Customer called, see CRM."`},
			events: map[string]int{"OnRecordCreate": 2, "OnRecordUpdate": 0}, // the note and its history line; the ticket is not touched
			check:  historyHas(testapp.TicketId, policy.EventNoted, id)}
	}
	asCallers(t, "notes on alice's ticket", "POST", "/addNoteOnTicket/"+testapp.TicketId, body, nil, testapp.Merge(
		gate(customers...),
		byEach(noted, testapp.Admin, "other admin", testapp.SuperAdmin, testapp.Operator),
	))
	asCallers(t, "notes on a closed ticket", "POST", "/addNoteOnTicket/"+testapp.ClosedTicketId, body, nil, testapp.Merge(
		gate(customers...),
		map[string]callerWant{testapp.Admin: notFound},
		testapp.Each(callerWant{status: 201, content: []string{`"kind":"note"`}}, testapp.SuperAdmin, testapp.Operator),
	))
	asCallers(t, "notes nothing", "POST", "/addNoteOnTicket/"+testapp.TicketId, `{}`, nil, testapp.Merge(
		gate(customers...),
		testapp.Each(callerWant{status: 400, content: []string{`"note":{"code":"validation_required"`}, events: noWrites}, testapp.Admin, testapp.SuperAdmin, testapp.Operator),
	))
}

func TestAssignTicket(t *testing.T) {
	url := "/assignTicket/" + testapp.TicketId
	assigned := callerWant{status: 200, content: []string{`"takenBy":"` + testapp.AdminId + `"`, `"takenByName":"agent1"`},
		check: both(stored(policy.Tickets, testapp.TicketId, map[string]any{"takenBy": testapp.AdminId, "isTaken": true}), func(t testing.TB, app *tests.TestApp, _ []byte) {
			if _, err := app.FindFirstRecordByFilter(policy.History, "ticket = {:t} && event = 'assigned'", dbx.Params{"t": testapp.TicketId}); err != nil {
				t.Error("no assigned history line")
			}
		})}
	asCallers(t, "assigns alice's ticket to agent1", "PATCH", url, `{"adminId":"`+testapp.AdminId+`"}`, nil, testapp.Merge(
		gate(testapp.Owner, testapp.OtherCustomer, testapp.Admin, "other admin"),
		testapp.Each(assigned, testapp.SuperAdmin, testapp.Operator),
	))
	asCallers(t, "frees agent2's ticket", "PATCH", "/assignTicket/"+testapp.TakenTicketId, `{"adminId":""}`, nil, testapp.Merge(
		gate(testapp.Owner, testapp.OtherCustomer, testapp.Admin),
		testapp.Each(callerWant{status: 200, content: []string{`"takenBy":""`, `"isTaken":false`},
			check: historyHas(testapp.TakenTicketId, policy.EventReleased, testapp.SuperAdminId)}, testapp.SuperAdmin),
		testapp.Each(callerWant{status: 200, content: []string{`"takenBy":""`}}, testapp.Operator),
	))
	asCallers(t, "assigns to an unknown admin", "PATCH", url, `{"adminId":"admin9999999999"}`, nil, testapp.Merge(
		gate(testapp.Owner, testapp.OtherCustomer, testapp.Admin),
		testapp.Each(callerWant{status: 400, content: []string{`"adminId":{"code":"validation_unknown_admin"`}, events: noWrites}, testapp.SuperAdmin, testapp.Operator),
	))
	asCallers(t, "assigns a closed ticket", "PATCH", "/assignTicket/"+testapp.ClosedTicketId, `{"adminId":"`+testapp.AdminId+`"}`, nil, testapp.Merge(
		gate(testapp.Owner, testapp.OtherCustomer, testapp.Admin),
		testapp.Each(callerWant{status: 409, content: []string{"closed"}, events: noWrites}, testapp.SuperAdmin, testapp.Operator),
	))
}

func TestReleaseAndReopen(t *testing.T) {
	release := `{"status":"markAsReleased"}`
	freed := callerWant{status: 200, content: []string{`"ticketStatus":"released"`}, check: stored(policy.Tickets, testapp.TakenTicketId, map[string]any{"takenBy": "", "isTaken": false})}
	asCallers(t, "releases agent2's ticket", "PATCH", "/markTicketStatus/"+testapp.TakenTicketId, release, nil, testapp.Merge(
		gate(customers...),
		map[string]callerWant{
			testapp.Admin: {status: 403, content: []string{"holding"}, events: noWrites, check: stored(policy.Tickets, testapp.TakenTicketId, map[string]any{"takenBy": testapp.OtherAdminId})},
			"other admin": {status: 200, content: []string{`"ticketStatus":"released"`}, check: both(historyHas(testapp.TakenTicketId, policy.EventReleased, testapp.OtherAdminId))},
		},
		testapp.Each(freed, testapp.SuperAdmin, testapp.Operator),
	))
	reopen := `{"status":"markAsReopened"}`
	asCallers(t, "reopens a closed ticket", "PATCH", "/markTicketStatus/"+testapp.ClosedTicketId, reopen, nil, testapp.Merge(
		gate(customers...),
		map[string]callerWant{testapp.Admin: {status: 403, events: noWrites, check: stored(policy.Tickets, testapp.ClosedTicketId, map[string]any{"ticketStatus": "closed"})}},
		testapp.Each(callerWant{status: 200, content: []string{`"ticketStatus":"reopened"`},
			check: both(stored(policy.Tickets, testapp.ClosedTicketId, map[string]any{"ticketStatus": "active"}))}, testapp.SuperAdmin, testapp.Operator),
	))
}

func TestTagTicket(t *testing.T) {
	url := "/tagTicket/" + testapp.TicketId
	asCallers(t, "tags alice's ticket", "PATCH", url, `{"add":["Billing","urgent","billing"]}`, nil, testapp.Merge(
		gate(customers...),
		byEach(func(id string) callerWant {
			return callerWant{status: 200, content: []string{`"tags":["billing","urgent"]`}, check: historyHas(testapp.TicketId, policy.EventTagged, id)}
		}, testapp.Admin, testapp.SuperAdmin, testapp.Operator),
	))
	asCallers(t, "tags with a bad tag", "PATCH", url, `{"add":["no spaces"]}`, nil, testapp.Merge(
		gate(customers...),
		testapp.Each(callerWant{status: 400, content: []string{`"add":{"code":"validation_invalid_tag"`}, events: noWrites}, testapp.Admin, testapp.SuperAdmin, testapp.Operator),
	))
	asCallers(t, "tags beyond 10", "PATCH", url, `{"add":["a1","a2","a3","a4","a5","a6","a7","a8","a9","a10","a11"]}`, nil, testapp.Merge(
		gate(customers...),
		testapp.Each(callerWant{status: 400, content: []string{`"add":{"code":"validation_too_many_tags"`}, events: noWrites}, testapp.Admin, testapp.SuperAdmin, testapp.Operator),
	))
	asCallers(t, "tags a closed ticket", "PATCH", "/tagTicket/"+testapp.ClosedTicketId, `{"add":["x"]}`, nil, testapp.Merge(
		gate(customers...),
		map[string]callerWant{testapp.Admin: notFound},
		testapp.Each(callerWant{status: 200, content: []string{`"tags":["x"]`}}, testapp.SuperAdmin, testapp.Operator),
	))
}

func TestGetTicketHistory(t *testing.T) {
	url := "/getTicketHistory/" + testapp.TakenTicketId
	lines := callerWant{status: 200, content: []string{`"event":"created"`, `"event":"answered"`, `"event":"noted"`, `"ticketId":"` + testapp.TakenTicketId + `"`}, events: noWrites,
		check: func(t testing.TB, _ *tests.TestApp, raw []byte) {
			s := string(raw)
			if strings.Index(s, `"event":"created"`) > strings.Index(s, `"event":"noted"`) {
				t.Errorf("history not oldest first: %s", s)
			}
		}}
	asCallers(t, "reads the history of alice's ticket", "GET", url, "", withNote, testapp.Merge(
		gate(customers...),
		testapp.Each(lines, testapp.Admin, testapp.SuperAdmin, testapp.Operator),
	))
	asCallers(t, "reads the history of a closed ticket", "GET", "/getTicketHistory/"+testapp.ClosedTicketId, "", nil, testapp.Merge(
		gate(customers...),
		map[string]callerWant{testapp.Admin: notFound},
		testapp.Each(callerWant{status: 200, content: []string{`"event":"created"`}}, testapp.SuperAdmin, testapp.Operator),
	))
}

func TestViewingTicket(t *testing.T) {
	asCallers(t, "views alice's ticket", "POST", "/viewingTicket/"+testapp.TicketId, `{"typing":true}`, nil, testapp.Merge(
		gate(customers...),
		testapp.Each(callerWant{status: 204, content: []string{""}, events: noWrites}, testapp.Admin, testapp.SuperAdmin, testapp.Operator),
	))
	asCallers(t, "views a closed ticket", "POST", "/viewingTicket/"+testapp.ClosedTicketId, `{}`, nil, testapp.Merge(
		gate(customers...),
		map[string]callerWant{testapp.Admin: notFound},
		testapp.Each(callerWant{status: 204, content: []string{""}}, testapp.SuperAdmin, testapp.Operator),
	))
	asCallers(t, "views with a bad body", "POST", "/viewingTicket/"+testapp.TicketId, `{"typing":"yes"}`, nil, testapp.Merge(
		gate(customers...),
		testapp.Each(callerWant{status: 400, events: noWrites}, testapp.Admin, testapp.SuperAdmin, testapp.Operator),
	))
}

func TestListFilters(t *testing.T) {
	tagged := func(t testing.TB, app *tests.TestApp) {
		withNote(t, app) // tags the taken ticket vip-secret
	}
	asCallers(t, "filters the queue by tag", "GET", "/getAllActiveTickets?tag=VIP-secret", "", tagged, testapp.Merge(
		gate(customers...),
		testapp.Each(callerWant{status: 200, content: []string{`"totalNumOfItems":1`, testapp.TakenTicketId}}, testapp.Admin, testapp.SuperAdmin, testapp.Operator),
	))
	asCallers(t, "filters the queue by waitingOn", "GET", "/getAllActiveTickets?waitingOn=customer", "", nil, testapp.Merge(
		gate(customers...),
		testapp.Each(callerWant{status: 200, content: []string{`"totalNumOfItems":1`, testapp.TakenTicketId}}, testapp.Admin, testapp.SuperAdmin, testapp.Operator),
	))
	asCallers(t, "filters the queue by takenBy=none", "GET", "/getAllActiveTickets?takenBy=none", "", nil, testapp.Merge(
		gate(customers...),
		testapp.Each(callerWant{status: 200, content: []string{`"totalNumOfItems":2`}, absent: []string{`"id":"` + testapp.TakenTicketId + `"`}}, testapp.Admin, testapp.SuperAdmin, testapp.Operator),
	))
	asCallers(t, "filters the queue by takenBy=me", "GET", "/getAllActiveTickets?takenBy=me", "", nil, testapp.Merge(
		gate(customers...),
		map[string]callerWant{"other admin": {status: 200, content: []string{`"totalNumOfItems":1`, testapp.TakenTicketId}}},
		testapp.Each(callerWant{status: 200, content: []string{`"totalNumOfItems":0`}}, testapp.Admin, testapp.SuperAdmin, testapp.Operator),
	))
	for _, bad := range []string{"waitingOn=nobody", "takenBy=someone", "takenBy=admin9999999999", "tag=no%20spaces"} {
		name := strings.SplitN(bad, "=", 2)[0]
		asCallers(t, "filters the queue by "+bad, "GET", "/getAllActiveTickets?"+bad, "", nil, testapp.Merge(
			gate(customers...),
			testapp.Each(callerWant{status: 400, content: []string{`"` + name + `":{"code":`}}, testapp.Admin, testapp.SuperAdmin, testapp.Operator),
		))
	}
	asCallers(t, "filters the closed list by tag", "GET", "/getAllClosedTickets?tag=none-here", "", nil, testapp.Merge(
		gate(customers...), map[string]callerWant{testapp.Admin: forbidden},
		testapp.Each(callerWant{status: 200, content: []string{`"totalNumOfItems":0`}}, testapp.SuperAdmin, testapp.Operator),
	))
}

func TestPortalSettings(t *testing.T) {
	asCallers(t, "reads the settings", "GET", "/portalSettings", "", nil, testapp.Merge(
		gate(testapp.Owner, testapp.OtherCustomer, testapp.Admin),
		testapp.Each(callerWant{status: 200, content: []string{`"reopenWindowDays":14`, `"inboundNewTickets":"anyone"`, `"sla":{"high":{"firstResponseMinutes":60,"resolveMinutes":480}`, `"csat":true`, `"autoReply":false`}}, testapp.SuperAdmin, testapp.Operator),
	))
	asCallers(t, "changes the reopen window", "PATCH", "/portalSettings", `{"reopenWindowDays":3,"autoReply":true}`, nil, testapp.Merge(
		gate(testapp.Owner, testapp.OtherCustomer, testapp.Admin),
		testapp.Each(callerWant{status: 200, content: []string{`"reopenWindowDays":3`, `"autoReply":true`, `"maxAttachments":10`},
			check: func(t testing.TB, app *tests.TestApp, _ []byte) {
				r, _ := app.FindRecordById("portalSettings", "portalsettings1")
				if r.GetInt("reopenWindowDays") != 3 || !r.GetBool("autoReply") {
					t.Errorf("stored settings: %v", r.FieldsData())
				}
			}}, testapp.SuperAdmin, testapp.Operator),
	))
	for key, body := range map[string]string{
		"reopenWindowDays":  `{"reopenWindowDays":-1}`,
		"inboundAddress":    `{"inboundAddress":"not a mail"}`,
		"inboundNewTickets": `{"inboundNewTickets":"everyone"}`,
		"maxAttachmentMB":   `{"maxAttachmentMB":0}`,
		"sla":               `{"sla":{"high":{"firstResponseMinutes":0,"resolveMinutes":1},"normal":{"firstResponseMinutes":1,"resolveMinutes":1}}}`,
	} {
		asCallers(t, "sets a bad "+key, "PATCH", "/portalSettings", body, nil, testapp.Merge(
			gate(testapp.Owner, testapp.OtherCustomer, testapp.Admin),
			testapp.Each(callerWant{status: 400, content: []string{key}, events: acctNoWrites}, testapp.SuperAdmin, testapp.Operator),
		))
	}
}

func TestSendTicketSubject(t *testing.T) {
	asCallers(t, "sends a ticket with a subject", "POST", "/sendTicket", `{"ticketContent":"Line one\nline two","ticketSubject":"  Export broken  "}`, nil, testapp.Merge(
		gate(testapp.Admin, testapp.SuperAdmin, testapp.Operator),
		testapp.Each(callerWant{status: 201, content: []string{`"ticketSubject":"Export broken"`, `"waitingOn":"agent"`, `"messages":[]`, `"ticketAnswers":[]`}, absent: []string{`"tags"`}}, testapp.Owner, testapp.OtherCustomer),
	))
	asCallers(t, "sends a ticket without a subject", "POST", "/sendTicket", `{"ticketContent":"\n  First line of a long question that goes on and on and on and on and on and on and on and on and on and on and on and on and on\nsecond"}`, nil, testapp.Merge(
		gate(testapp.Admin, testapp.SuperAdmin, testapp.Operator),
		testapp.Each(callerWant{status: 201, content: []string{`"ticketSubject":"First line of a long question that goes on and on and on and on and on and on and on and on and on and on and on and on"`}}, testapp.Owner, testapp.OtherCustomer),
	))
	asCallers(t, "sends a ticket with a two-line subject", "POST", "/sendTicket", `{"ticketContent":"x","ticketSubject":"a\nb"}`, nil, testapp.Merge(
		gate(testapp.Admin, testapp.SuperAdmin, testapp.Operator),
		testapp.Each(callerWant{status: 400, content: []string{`"ticketSubject":{"code":"validation_invalid_subject"`}, events: noWrites}, testapp.Owner, testapp.OtherCustomer),
	))
}
