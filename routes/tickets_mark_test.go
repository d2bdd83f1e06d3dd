package routes_test

import (
	"testing"

	"ticketportal/policy"
	"ticketportal/testapp"
)

const (
	takeBody  = `{"status":"markAsTaken"}`
	closeBody = `{"status":"markAsClosed"}`
)

// markedAs is the 200 answer of a mark that changed the ticket.
func markedAs(ticketId, status string, fields map[string]any) callerWant {
	return callerWant{status: 200,
		content: []string{`"message":`, `"ticketId":"` + ticketId + `"`, `"ticketStatus":"` + status + `"`},
		events:  map[string]int{"OnRecordUpdate": 1, "OnRecordCreate": 1, "OnRecordDelete": 0}, // the ticket and its history line
		check:   stored(policy.Tickets, ticketId, fields)}
}

// noop is the 200 answer of a mark that changes nothing.
func noop(ticketId, status string) callerWant {
	return callerWant{status: 200,
		content: []string{`"ticketId":"` + ticketId + `"`, `"ticketStatus":"` + status + `"`},
		events:  noWrites,
		check:   unmarked(ticketId)}
}

func conflict(ticketId, message string) callerWant {
	return callerWant{status: 409, content: []string{`"status":409`, message}, events: noWrites, check: unmarked(ticketId)}
}

// byEach gives each listed caller kind its own expectation, built from its account id.
func byEach(build func(id string) callerWant, kinds ...string) map[string]callerWant {
	m := map[string]callerWant{}
	for _, k := range kinds {
		m[k] = build(idOf[k])
	}
	return m
}

func TestMarkTicketTaken(t *testing.T) {
	staff := append(append([]string{}, agents...), heads...)
	asCallers(t, "takes a free ticket", "PATCH", "/markTicketStatus/"+testapp.TicketId, takeBody, nil, testapp.Merge(
		gate(customers...),
		byEach(func(id string) callerWant {
			return markedAs(testapp.TicketId, "taken", map[string]any{"takenBy": id, "isTaken": true, "markedBy": id, "ticketStatus": policy.StatusActive})
		}, staff...),
	))
	asCallers(t, "takes a ticket agent2 holds", "PATCH", "/markTicketStatus/"+testapp.TakenTicketId, takeBody, nil, testapp.Merge(
		gate(customers...),
		testapp.Each(conflict(testapp.TakenTicketId, "This ticket is already taken by agent2."), testapp.Admin, testapp.SuperAdmin, testapp.Operator),
		map[string]callerWant{"other admin": noop(testapp.TakenTicketId, "taken")}, // agent2 takes its own ticket again
	))
	asCallers(t, "takes a closed ticket", "PATCH", "/markTicketStatus/"+testapp.ClosedTicketId, takeBody, nil, testapp.Merge(
		gate(customers...), testapp.Each(conflict(testapp.ClosedTicketId, "This ticket is closed."), staff...),
	))
	asCallers(t, "takes an unknown ticket", "PATCH", "/markTicketStatus/ticket999999999", takeBody, nil, testapp.Merge(
		gate(customers...), testapp.Each(notFound, staff...),
	))
}

func TestMarkTicketClosed(t *testing.T) {
	staff := append(append([]string{}, agents...), heads...)
	asCallers(t, "closes an active ticket", "PATCH", "/markTicketStatus/"+testapp.TicketId, closeBody, nil, testapp.Merge(
		gate(customers...),
		byEach(func(id string) callerWant {
			return markedAs(testapp.TicketId, "closed", map[string]any{"ticketStatus": policy.StatusClosed, "markedBy": id})
		}, staff...),
	))
	// holding shows who is on a ticket; it does not stop the team from closing it
	asCallers(t, "closes a ticket agent2 holds", "PATCH", "/markTicketStatus/"+testapp.TakenTicketId, closeBody, nil, testapp.Merge(
		gate(customers...),
		byEach(func(id string) callerWant {
			return markedAs(testapp.TakenTicketId, "closed", map[string]any{"ticketStatus": policy.StatusClosed, "takenBy": testapp.OtherAdminId, "markedBy": id})
		}, staff...),
	))
	asCallers(t, "closes a closed ticket", "PATCH", "/markTicketStatus/"+testapp.ClosedTicketId, closeBody, nil, testapp.Merge(
		gate(customers...), testapp.Each(noop(testapp.ClosedTicketId, "closed"), staff...),
	))
}

func TestMarkTicketStatusBody(t *testing.T) {
	cases := []struct{ name, body, content string }{
		{"sends no status", `{}`, `"status":{"code":"validation_required"`},
		{"sends an unknown status", `{"status":"markAsOpen"}`, `"status":{"code":"validation_invalid_value"`},
		{"sends the status in the wrong case", `{"status":"MARKASTAKEN"}`, `"status":{"code":"validation_invalid_value"`},
		{"sends a status of the wrong type", `{"status":true}`, `"status":{"code":"validation_invalid_type"`},
		{"sends who takes the ticket", `{"status":"markAsTaken","takenBy":"` + testapp.OtherAdminId + `"}`, `"takenBy":{"code":"validation_unknown_field"`},
	}
	for _, c := range cases {
		asCallers(t, c.name, "PATCH", "/markTicketStatus/"+testapp.TicketId, c.body, nil, testapp.Merge(
			gate(customers...),
			testapp.Each(callerWant{status: 400, content: []string{c.content}, events: noWrites, check: unmarked(testapp.TicketId)}, testapp.Admin, testapp.SuperAdmin, testapp.Operator),
		))
	}
}

func TestMarkAsHighPriority(t *testing.T) {
	asCallers(t, "flags a ticket high priority", "PATCH", "/markAsHighPriority/"+testapp.TicketId, "", nil, testapp.Merge(
		gate(append(customers, agents...)...),
		byEach(func(id string) callerWant {
			return markedAs(testapp.TicketId, "high priority", map[string]any{"isHighPriority": true, "markedBy": id, "ticketStatus": policy.StatusActive})
		}, heads...),
	))
	asCallers(t, "flags a high priority ticket again", "PATCH", "/markAsHighPriority/"+testapp.OtherTicketId, "", nil, testapp.Merge(
		gate(append(customers, agents...)...), testapp.Each(noop(testapp.OtherTicketId, "high priority"), heads...),
	))
	asCallers(t, "flags a closed ticket", "PATCH", "/markAsHighPriority/"+testapp.ClosedTicketId, "", nil, testapp.Merge(
		gate(append(customers, agents...)...), testapp.Each(conflict(testapp.ClosedTicketId, "This ticket is closed."), heads...),
	))
	asCallers(t, "flags an unknown ticket", "PATCH", "/markAsHighPriority/ticket999999999", "", nil, testapp.Merge(
		gate(append(customers, agents...)...), testapp.Each(notFound, heads...),
	))
	asCallers(t, "flags a ticket with a body", "PATCH", "/markAsHighPriority/"+testapp.TicketId, `{"isHighPriority":false}`, nil, testapp.Merge(
		gate(append(customers, agents...)...),
		testapp.Each(callerWant{status: 400, content: []string{`"isHighPriority":{"code":"validation_unknown_field"`}, events: noWrites}, heads...),
	))
}
