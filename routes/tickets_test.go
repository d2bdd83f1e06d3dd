package routes_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/policy"
	"ticketportal/testapp"
)

// idOf is the account id of each caller kind that has one.
var idOf = map[string]string{
	testapp.Owner:         testapp.CustomerId,
	testapp.OtherCustomer: testapp.OtherCustomerId,
	testapp.Admin:         testapp.AdminId,
	"other admin":         testapp.OtherAdminId,
	testapp.SuperAdmin:    testapp.SuperAdminId,
	testapp.Operator:      testapp.OperatorId,
}

// ticketsOf counts a customer's stored tickets.
func ticketsOf(customerId string, want int) func(testing.TB, *tests.TestApp, []byte) {
	return func(t testing.TB, app *tests.TestApp, _ []byte) {
		t.Helper()
		n, err := app.CountRecords(policy.Tickets, dbx.HashExp{"customerId": customerId})
		if err != nil {
			t.Fatal(err)
		}
		if int(n) != want {
			t.Errorf("customer %s has %d tickets, want %d", customerId, n, want)
		}
	}
}

// sentTicketIsReturned checks that ticketId names the ticket in data.
func sentTicketIsReturned(t testing.TB, _ *tests.TestApp, raw []byte) {
	var b struct {
		TicketId string         `json:"ticketId"`
		Data     map[string]any `json:"data"`
	}
	if err := json.Unmarshal(raw, &b); err != nil || b.TicketId == "" || b.TicketId != b.Data["id"] {
		t.Errorf("ticketId %q does not name the ticket in data: %s", b.TicketId, raw)
	}
}

func TestSendTicket(t *testing.T) {
	body := `{"ticketContent":"Printer on fire."}`
	created := func(userName, first string) callerWant {
		return callerWant{status: 201,
			content: []string{`"message":`, `"ticketId":"`, `"ticketContent":"Printer on fire."`, `"customerUserName":"` + userName + `"`,
				`"customerFirstName":"` + first + `"`, `"ticketStatus":"active"`, `"isTaken":false`, `"ticketAnswers":[]`},
			events: map[string]int{"OnRecordCreate": 2, "OnRecordAfterCreateSuccess": 2, "OnRecordUpdate": 0}, // the ticket and its "created" history line
		}
	}
	alice := created("alice", "Alice")
	alice.check = all(sentTicketIsReturned, ticketsOf(testapp.CustomerId, 4))
	bob := created("bob", "Bob")
	bob.check = ticketsOf(testapp.OtherCustomerId, 2)
	unverified := forbidden
	unverified.content = []string{`"status":403`, `Verify your email`}
	asCallers(t, "sends a ticket", "POST", "/sendTicket", body, nil, testapp.Merge(
		gate(agents...), testapp.Each(forbidden, heads...),
		map[string]callerWant{testapp.Owner: alice, testapp.OtherCustomer: bob, testapp.Unverified: unverified},
	))
}

func TestSendTicketBody(t *testing.T) {
	long := strings.Repeat("é", 10000)
	cases := []struct {
		name, body string
		want       callerWant
	}{
		{"sends a ticket with the longest content", `{"ticketContent":"` + long + `"}`, callerWant{status: 201, content: []string{`"ticketId":"`}}},
		{"gives other names for the ticket", `{"ticketContent":"Hi","customerFirstName":" Al ","customerLastName":"Smith"}`,
			callerWant{status: 201, content: []string{`"customerFirstName":"Al"`, `"customerLastName":"Smith"`, `"userEmail":"alice@example.com"`}}},
		{"leaves the names blank (the profile's are used)", `{"ticketContent":"Hi","customerFirstName":"","customerLastName":"  "}`,
			callerWant{status: 201, content: []string{`"customerFirstName":"Alice"`, `"customerLastName":"Adams"`}}},
		{"sends no content", `{}`, callerWant{status: 400, content: []string{`"ticketContent":{"code":"validation_required"`}}},
		{"sends blank content", `{"ticketContent":" \n\t "}`, callerWant{status: 400, content: []string{`"ticketContent":{"code":"validation_blank"`}}},
		{"sends content over 10000 characters", `{"ticketContent":"` + long + `x"}`, callerWant{status: 400, content: []string{`"ticketContent":{"code":"validation_length_too_long"`}}},
		{"sends a first name over 100 characters", `{"ticketContent":"Hi","customerFirstName":"` + strings.Repeat("a", 101) + `"}`,
			callerWant{status: 400, content: []string{`"customerFirstName":{"code":"validation_length_too_long"`}}},
		{"sends the ticket in another customer's name", `{"ticketContent":"Hi","customerId":"` + testapp.OtherCustomerId + `"}`,
			callerWant{status: 400, content: []string{`"customerId":{"code":"validation_unknown_field"`}}},
		{"sets the ticket's status", `{"ticketContent":"Hi","ticketStatus":"closed"}`,
			callerWant{status: 400, content: []string{`"ticketStatus":{"code":"validation_unknown_field"`}}},
		{"sends content of the wrong type", `{"ticketContent":42}`, callerWant{status: 400, content: []string{`"ticketContent":{"code":"validation_invalid_type"`}}},
		{"sends a JSON array", `[]`, callerWant{status: 400, content: []string{`"status":400`}}},
	}
	for _, c := range cases {
		w := c.want
		if w.status != 201 {
			w.events = noWrites
			w.check = ticketsOf(testapp.CustomerId, 3)
		}
		(&tests.ApiScenario{
			Name:               "owner " + c.name,
			Method:             "POST",
			URL:                "/sendTicket",
			Body:               strings.NewReader(c.body),
			Headers:            testapp.Headers(t, testapp.Owner),
			ExpectedStatus:     w.status,
			ExpectedContent:    w.content,
			NotExpectedContent: acctLeaks,
			ExpectedEvents:     w.events,
			TestAppFactory:     testapp.Factory,
		}).Test(t)
	}
}

func TestGetUserTickets(t *testing.T) {
	asCallers(t, "lists own tickets", "GET", "/getUserTickets", "", nil, testapp.Merge(
		gate(append(agents, heads...)...),
		map[string]callerWant{
			testapp.Owner: {status: 200, content: []string{`"message":`, `"page":1`, `"ticketAnswers":[{"id":"` + testapp.AnswerId + `","answer":"Please reinstall the app.","createdAt":"`},
				absent: []string{testapp.OtherTicketId},
				check:  listIs([]string{testapp.TicketId, testapp.TakenTicketId, testapp.ClosedTicketId}, 3, 1)},
			testapp.OtherCustomer: {status: 200, absent: []string{testapp.TicketId}, check: listIs([]string{testapp.OtherTicketId}, 1, 1)},
			testapp.Unverified:    {status: 200, check: listIs([]string{}, 0, 0)},
		},
	))
}

func TestGetAllActiveTickets(t *testing.T) {
	queue := callerWant{status: 200, absent: []string{testapp.ClosedTicketId},
		check: listIs([]string{testapp.OtherTicketId, testapp.TicketId, testapp.TakenTicketId}, 3, 1)}
	asCallers(t, "lists the active tickets", "GET", "/getAllActiveTickets", "", nil, testapp.Merge(
		gate(customers...), testapp.Each(queue, agents...), testapp.Each(queue, heads...),
	))
}

func TestGetAllClosedTickets(t *testing.T) {
	closed := callerWant{status: 200, check: listIs([]string{testapp.ClosedTicketId}, 1, 1)}
	asCallers(t, "lists the closed tickets", "GET", "/getAllClosedTickets", "", nil, testapp.Merge(
		gate(append(customers, agents...)...), testapp.Each(closed, heads...),
	))
}

func TestSearchForTicket(t *testing.T) {
	found := callerWant{status: 200, content: []string{`"message":`, `"id":"` + testapp.TakenTicketId + `"`,
		`"ticketAnswers":[{"id":"` + testapp.AnswerId + `","answer":"Please reinstall the app.","createdAt":"`, `"adminId":"` + testapp.OtherAdminId + `"`}}
	asCallers(t, "reads a ticket by id", "GET", "/searchForTicket/"+testapp.TakenTicketId, "", nil, testapp.Merge(
		gate(append(customers, agents...)...), testapp.Each(found, heads...),
	))
	closed := callerWant{status: 200, content: []string{`"ticketStatus":"closed"`, `"ticketAnswers":[]`}}
	asCallers(t, "reads a closed ticket by id", "GET", "/searchForTicket/"+testapp.ClosedTicketId, "", nil, testapp.Merge(
		gate(append(customers, agents...)...), testapp.Each(closed, heads...),
	))
	asCallers(t, "reads an unknown ticket", "GET", "/searchForTicket/ticket999999999", "", nil, testapp.Merge(
		gate(append(customers, agents...)...), testapp.Each(notFound, heads...),
	))
	asCallers(t, "reads a malformed ticket id", "GET", "/searchForTicket/%27%20OR%201=1--", "", nil, testapp.Merge(
		gate(append(customers, agents...)...), testapp.Each(notFound, heads...),
	))
}

func TestDeleteSpecificTicket(t *testing.T) {
	deleted := callerWant{status: 200, content: []string{`"message":`},
		events: map[string]int{"OnRecordDelete": 4}, // the ticket, its answer and its two history lines
		check:  all(gone(policy.Tickets, testapp.TakenTicketId), gone(policy.Messages, testapp.AnswerId), ticketsOf(testapp.CustomerId, 2))}
	kept := func(w callerWant) callerWant {
		w.check = all(ticketsOf(testapp.CustomerId, 3), func(t testing.TB, app *tests.TestApp, _ []byte) {
			if answersOf(t, app, testapp.TakenTicketId) != 1 {
				t.Error("the answer is gone")
			}
		})
		return w
	}
	asCallers(t, "deletes a ticket", "DELETE", "/deleteSpecificTicket/"+testapp.TakenTicketId, "", nil, testapp.Merge(
		testapp.Each(kept(unauthorized), outsiders...), testapp.Each(kept(forbidden), append(customers, agents...)...), testapp.Each(deleted, heads...),
	))
	asCallers(t, "deletes an unknown ticket", "DELETE", "/deleteSpecificTicket/nope", "", nil, testapp.Merge(
		gate(append(customers, agents...)...), testapp.Each(notFound, heads...),
	))
}

// answered checks that the caller's answer was stored on the ticket.
func answered(ticketId, adminId string, want int) func(testing.TB, *tests.TestApp, []byte) {
	return func(t testing.TB, app *tests.TestApp, _ []byte) {
		t.Helper()
		if n := answersOf(t, app, ticketId); n != want {
			t.Errorf("ticket %s has %d answers, want %d", ticketId, n, want)
		}
		if _, err := app.FindFirstRecordByFilter(policy.Messages, "ticket = {:t} && kind = 'answer' && authorId = {:a} && body = 'Try the export button.'",
			dbx.Params{"t": ticketId, "a": adminId}); err != nil {
			t.Errorf("no answer of %s stored: %v", adminId, err)
		}
	}
}

func TestSendAnswerOnTicket(t *testing.T) {
	body := `{"answer":"Try the export button."}`
	wants := testapp.Merge(
		testapp.Each(unauthorized, outsiders...), testapp.Each(forbidden, customers...),
	)
	for _, kind := range append(append([]string{}, agents...), heads...) {
		wants[kind] = callerWant{status: 200,
			content: []string{`"message":`, `"id":"` + testapp.TicketId + `"`, `"answer":"Try the export button."`, `"adminId":"` + idOf[kind] + `"`},
			events:  map[string]int{"OnRecordCreate": 2, "OnRecordUpdate": 1}, // the answer and its history line, then its ticket is touched
			check:   answered(testapp.TicketId, idOf[kind], 1)}
	}
	asCallers(t, "answers a ticket", "PATCH", "/sendAnswerOnTicket/"+testapp.TicketId, body, nil, wants)

	// holding a ticket does not lock the others out
	held := callerWant{status: 200, content: []string{`"answer":"Please reinstall the app."`, `"answer":"Try the export button."`},
		check: answered(testapp.TakenTicketId, testapp.AdminId, 2)}
	asCallers(t, "answers a ticket another admin holds", "PATCH", "/sendAnswerOnTicket/"+testapp.TakenTicketId, body, nil, testapp.Merge(
		gate(customers...), map[string]callerWant{testapp.Admin: held}, testapp.Each(callerWant{status: 200}, heads...),
	))

	closed := callerWant{status: 409, content: []string{`"status":409`, `closed`}, events: noWrites}
	asCallers(t, "answers a closed ticket", "PATCH", "/sendAnswerOnTicket/"+testapp.ClosedTicketId, body, nil, testapp.Merge(
		gate(customers...), testapp.Each(closed, agents...), testapp.Each(closed, heads...),
	))
	asCallers(t, "answers an unknown ticket", "PATCH", "/sendAnswerOnTicket/ticket999999999", body, nil, testapp.Merge(
		gate(customers...), testapp.Each(notFound, agents...), testapp.Each(notFound, heads...),
	))
}

func TestSendAnswerOnTicketBody(t *testing.T) {
	cases := []struct{ name, body, content string }{
		{"sends no answer", `{}`, `"answer":{"code":"validation_required"`},
		{"sends an empty answer", `{"answer":""}`, `"answer":{"code":"validation_required"`},
		{"sends a blank answer", `{"answer":"   "}`, `"answer":{"code":"validation_blank"`},
		{"sends an answer over 10000 characters", `{"answer":"` + strings.Repeat("a", 10001) + `"}`, `"answer":{"code":"validation_length_too_long"`},
		{"sends an answer in another admin's name", `{"answer":"Hi","adminId":"` + testapp.OtherAdminId + `"}`, `"adminId":{"code":"validation_unknown_field"`},
		{"sends an answer of the wrong type", `{"answer":["Hi"]}`, `"answer":{"code":"validation_invalid_type"`},
	}
	for _, c := range cases {
		(&tests.ApiScenario{
			Name:               "admin " + c.name,
			Method:             "PATCH",
			URL:                "/sendAnswerOnTicket/" + testapp.TicketId,
			Body:               strings.NewReader(c.body),
			Headers:            testapp.Headers(t, testapp.Admin),
			ExpectedStatus:     400,
			ExpectedContent:    []string{c.content},
			NotExpectedContent: acctLeaks,
			ExpectedEvents:     noWrites,
			TestAppFactory:     testapp.Factory,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				if n := answersOf(t, app, testapp.TicketId); n != 0 {
					t.Errorf("%d answers stored", n)
				}
			},
		}).Test(t)
	}
	(&tests.ApiScenario{
		Name:            "admin sends the longest answer",
		Method:          "PATCH",
		URL:             "/sendAnswerOnTicket/" + testapp.TicketId,
		Body:            strings.NewReader(`{"answer":"` + strings.Repeat("ü", 10000) + `"}`),
		Headers:         testapp.Headers(t, testapp.Admin),
		ExpectedStatus:  200,
		ExpectedContent: []string{`"ticketAnswers":[{"id":"`},
		TestAppFactory:  testapp.Factory,
	}).Test(t)
}
