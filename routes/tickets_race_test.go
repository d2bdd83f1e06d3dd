package routes_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pocketbase/dbx"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/types"

	"ticketportal/policy"
	"ticketportal/testapp"
)

// race sends n requests at once (real goroutines against a real server) and
// returns each one's status and body, in the order of i.
func race(t *testing.T, n int, send func(i int) (int, []byte)) ([]int, [][]byte) {
	t.Helper()
	statuses, bodies := make([]int, n), make([][]byte, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i], bodies[i] = send(i)
		}()
	}
	close(start)
	wg.Wait()
	return statuses, bodies
}

// slowWrites makes every create and update of the collection take d longer,
// inside its transaction, so that an implementation reading a ticket outside
// the transaction that writes it would let several racers through.
func slowWrites(app core.App, collection string, d time.Duration) {
	app.OnRecordCreate(collection).BindFunc(func(e *core.RecordEvent) error { time.Sleep(d); return e.Next() })
	app.OnRecordUpdate(collection).BindFunc(func(e *core.RecordEvent) error { time.Sleep(d); return e.Next() })
}

func count(statuses []int, status int) int {
	n := 0
	for _, s := range statuses {
		if s == status {
			n++
		}
	}
	return n
}

func TestTicketTakeRace(t *testing.T) {
	app := testapp.New(t)
	const n = 20
	ids, tokens, names := make([]string, n), make([]string, n), map[string]string{}
	for i := range n {
		name := fmt.Sprintf("racer%02d", i)
		ids[i], tokens[i] = newAdmin(t, app, name)
		names[ids[i]] = name
	}
	slowWrites(app, policy.Tickets, 50*time.Millisecond)
	base := testapp.Serve(t, app)

	statuses, bodies := race(t, n, func(i int) (int, []byte) {
		return call(t, "PATCH", base+"/markTicketStatus/"+testapp.TicketId, tokens[i], takeBody)
	})

	if count(statuses, 200) != 1 || count(statuses, 409) != n-1 {
		t.Fatalf("statuses %v: want exactly one 200 and %d 409", statuses, n-1)
	}
	ticket, err := app.FindRecordById(policy.Tickets, testapp.TicketId)
	if err != nil {
		t.Fatal(err)
	}
	winner := ticket.GetString("takenBy")
	for i, s := range statuses {
		switch {
		case s == 200 && ids[i] != winner:
			t.Errorf("%s got 200, but the ticket is held by %s", names[ids[i]], names[winner])
		case s == 409 && !strings.Contains(string(bodies[i]), "This ticket is already taken by "+names[winner]+"."):
			t.Errorf("409 does not name the holder %s: %s", names[winner], bodies[i])
		}
	}
	if ticket.GetString("markedBy") != winner || !ticket.GetBool("isTaken") {
		t.Errorf("markedBy %q isTaken %v, want %q true", ticket.GetString("markedBy"), ticket.GetBool("isTaken"), winner)
	}
	t.Logf("20 admins raced to take one ticket: one 200 (%s), %d 409", names[winner], count(statuses, 409))
}

func TestTicketAnswerRace(t *testing.T) {
	app := testapp.New(t)
	base := testapp.Serve(t, app)
	tokens := []string{testapp.Token(t, testapp.Admin), testapp.Token(t, "other admin"), testapp.Token(t, testapp.SuperAdmin), testapp.Token(t, testapp.Operator)}
	const n = 50

	began := time.Now()
	statuses, bodies := race(t, n, func(i int) (int, []byte) {
		return call(t, "PATCH", base+"/sendAnswerOnTicket/"+testapp.TicketId, tokens[i%len(tokens)], fmt.Sprintf(`{"answer":"Answer number %d."}`, i))
	})
	took := time.Since(began)

	if got := count(statuses, 200); got != n {
		for i, s := range statuses {
			if s != 200 {
				t.Logf("answer %d: %d %s", i, s, bodies[i])
			}
		}
		t.Fatalf("%d of %d answers got 200", got, n)
	}
	if got := answersOf(t, app, testapp.TicketId); got != n {
		t.Fatalf("%d answers stored, want %d", got, n)
	}
	for i := range n {
		if _, err := app.FindFirstRecordByData(policy.Messages, "body", fmt.Sprintf("Answer number %d.", i)); err != nil {
			t.Errorf("answer %d is missing: %v", i, err)
		}
	}
	// the ticket as a superAdmin reads it carries all of them, oldest first
	status, raw := call(t, "GET", base+"/searchForTicket/"+testapp.TicketId, testapp.Token(t, testapp.SuperAdmin), "")
	if status != 200 || strings.Count(string(raw), `"adminId":`) != n {
		t.Fatalf("search: %d, %d answers", status, strings.Count(string(raw), `"adminId":`))
	}
	t.Logf("50 concurrent answers on one ticket: all 200, all 50 stored, in %s", took.Round(time.Millisecond))
}

// Answers racing a close: every answer that got 200 is stored, every one
// that got 409 is not, and none was written after the close.
func TestTicketAnswerCloseRace(t *testing.T) {
	app := testapp.New(t)
	var closedAt types.DateTime
	app.OnRecordUpdate(policy.Tickets).BindFunc(func(e *core.RecordEvent) error {
		if err := e.Next(); err != nil {
			return err
		}
		if e.Record.Original().GetString("ticketStatus") == policy.StatusActive && e.Record.GetString("ticketStatus") == policy.StatusClosed {
			closedAt = e.Record.GetDateTime("updatedAt")
		}
		return nil
	})
	slowWrites(app, policy.Messages, 10*time.Millisecond)
	base := testapp.Serve(t, app)
	admin := testapp.Token(t, testapp.Admin)
	const n = 30

	statuses, _ := race(t, n+1, func(i int) (int, []byte) {
		if i == n/2 {
			return call(t, "PATCH", base+"/markTicketStatus/"+testapp.TicketId, testapp.Token(t, "other admin"), closeBody)
		}
		return call(t, "PATCH", base+"/sendAnswerOnTicket/"+testapp.TicketId, admin, fmt.Sprintf(`{"answer":"Racing answer %d."}`, i))
	})

	if statuses[n/2] != 200 || closedAt.IsZero() {
		t.Fatalf("close: %d", statuses[n/2])
	}
	answers := append(append([]int{}, statuses[:n/2]...), statuses[n/2+1:]...)
	ok, refused := count(answers, 200), count(answers, 409)
	if ok+refused != n {
		t.Fatalf("answer statuses %v: want only 200 and 409", answers)
	}
	if got := answersOf(t, app, testapp.TicketId); got != ok {
		t.Fatalf("%d answers stored, but %d got 200", got, ok)
	}
	late, err := app.FindRecordsByFilter(policy.Messages, "ticket = {:t} && kind = 'answer' && createdAt > {:closed}", "", 0, 0,
		dbx.Params{"t": testapp.TicketId, "closed": closedAt.String()})
	if err != nil {
		t.Fatal(err)
	}
	if len(late) != 0 {
		t.Errorf("%d answers were written after the ticket was closed at %s", len(late), closedAt)
	}
	t.Logf("%d answers raced a close: %d stored before it, %d refused with 409", n, ok, refused)
}
