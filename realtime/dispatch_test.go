package realtime

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

func receive(t *testing.T, c subscriptions.Client) string {
	t.Helper()
	select {
	case m := <-c.Channel():
		return m.Name
	case <-time.After(5 * time.Second):
		t.Fatal("no message")
		return ""
	}
}

func TestOutboxKeepsOrderAndAsksAtSendTime(t *testing.T) {
	var o outbox
	c := subscriptions.NewDefaultClient()
	var allowed atomic.Bool
	allowed.Store(true)
	ask := func(subscriptions.Client) bool { return allowed.Load() }
	for _, name := range []string{"1", "2", "3"} {
		guard := ask
		if name == "1" {
			guard = nil
		}
		o.post(c, delivery{msg: subscriptions.Message{Name: name}, stillAllowed: guard})
	}
	o.post(c, delivery{msg: subscriptions.Message{Name: "4"}})

	// "1" is waiting in Send; the client loses its rights before taking it
	allowed.Store(false)
	if got := receive(t, c); got != "1" {
		t.Fatalf("first message %q, want 1", got)
	}
	if got := receive(t, c); got != "4" {
		t.Fatalf("after the revocation got %q, want 4 (2 and 3 dropped)", got)
	}
	for deadline := time.Now().Add(5 * time.Second); o.waiting() > 0; {
		if time.Now().After(deadline) {
			t.Fatal("the client's sender did not end")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestOutboxSlowClientDelaysOnlyItself(t *testing.T) {
	var o outbox
	stuck, fine := subscriptions.NewDefaultClient(), subscriptions.NewDefaultClient()
	for _, name := range []string{"a", "b"} {
		o.post(stuck, delivery{msg: subscriptions.Message{Name: name}})
		o.post(fine, delivery{msg: subscriptions.Message{Name: name}})
	}
	if receive(t, fine) != "a" || receive(t, fine) != "b" {
		t.Fatal("the reading client did not get a then b")
	}
	stuck.Discard() // a client that went away: its sender ends
	for deadline := time.Now().Add(5 * time.Second); o.waiting() > 0; {
		if time.Now().After(deadline) {
			t.Fatal("the gone client's sender did not end")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestSerialRunsJobsInOrder(t *testing.T) {
	var s serial
	got := make(chan int, 100)
	for i := range 100 {
		s.run(func() { got <- i })
	}
	s.run(func() { panic("a broken job") }) // logged, the next still runs
	done := make(chan struct{})
	s.run(func() { close(done) })
	<-done
	for i := range 100 {
		if v := <-got; v != i {
			t.Fatalf("job %d ran as number %d", v, i)
		}
	}
}

func TestOutboxCutsAClientWhoseQueueIsFull(t *testing.T) {
	var cut atomic.Int32
	o := outbox{maxMessages: 3, maxBytes: 1 << 20, full: func(c subscriptions.Client) { cut.Add(1); c.Discard() }}
	stuck := subscriptions.NewDefaultClient() // nobody reads it
	for i := range 10 {
		o.post(stuck, delivery{msg: subscriptions.Message{Name: fmt.Sprint(i), Data: []byte("x")}})
	}
	// the sender holds one message, 3 wait; the next one overflows
	if got := cut.Load(); got != 1 {
		t.Fatalf("the client was cut %d times, want once", got)
	}
	for deadline := time.Now().Add(5 * time.Second); o.waiting() > 0; {
		if time.Now().After(deadline) {
			t.Fatal("the cut client's sender did not end")
		}
		time.Sleep(time.Millisecond)
	}

	// the byte bound too
	o = outbox{maxMessages: 100, maxBytes: 10, full: func(c subscriptions.Client) { cut.Add(1); c.Discard() }}
	stuck = subscriptions.NewDefaultClient()
	for range 5 {
		o.post(stuck, delivery{msg: subscriptions.Message{Data: []byte("12345")}})
	}
	if got := cut.Load(); got != 2 {
		t.Fatalf("the byte bound cut %d clients, want 1", got-1)
	}
}

func TestOutboxCoalescesUpdatesForAClientThatFellBehind(t *testing.T) {
	o := outbox{maxMessages: 1000, maxBytes: 1 << 20}
	c := subscriptions.NewDefaultClient()
	post := func(key, data string) {
		o.post(c, delivery{msg: subscriptions.Message{Name: key, Data: []byte(data)}, key: updateKey{"tickets/" + key, "tickets/*"}})
	}
	post("first", "1") // taken by the sender, which waits in Send
	for i := range coalesceAfter + 10 {
		post(fmt.Sprint("r", i), "old")
	}
	post("r0", "new")
	post("r5", "new")
	got := []string{}
	for range coalesceAfter + 11 {
		m := <-c.Channel()
		got = append(got, m.Name+"="+string(m.Data))
	}
	select {
	case m := <-c.Channel():
		t.Fatalf("an extra message %s=%s", m.Name, m.Data)
	case <-time.After(100 * time.Millisecond):
	}
	if got[0] != "first=1" || got[len(got)-2] != "r0=new" || got[len(got)-1] != "r5=new" || got[1] != "r1=old" {
		t.Fatalf("got %v, want the replaced updates once each, at the end, with the new data", got)
	}
}
