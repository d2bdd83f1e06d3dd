package hooks

import (
	"log/slog"
	"runtime/debug"
	"sync"

	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// serial runs jobs one at a time, in the order they were queued, on a
// goroutine that lives only while there is work; queueing never blocks.
type serial struct {
	mu      sync.Mutex
	jobs    []func()
	running bool
}

func (s *serial) run(job func()) {
	s.mu.Lock()
	s.jobs = append(s.jobs, job)
	start := !s.running
	s.running = true
	s.mu.Unlock()
	if start {
		go s.drain()
	}
}

func (s *serial) drain() {
	for {
		s.mu.Lock()
		if len(s.jobs) == 0 {
			s.running = false
			s.mu.Unlock()
			return
		}
		job := s.jobs[0]
		s.jobs[0] = nil
		s.jobs = s.jobs[1:]
		s.mu.Unlock()
		safely(job)
	}
}

// safely runs f, logging instead of crashing the server if it panics.
func safely(f func()) {
	defer func() {
		if r := recover(); r != nil {
			slog.Error("realtime job panicked", "panic", r, "stack", string(debug.Stack()))
		}
	}()
	f()
}

// delivery is one message on its way to one client. stillAllowed is asked
// right before the message is handed over, so that a client whose auth was
// revoked or changed meanwhile does not get it.
type delivery struct {
	msg          subscriptions.Message
	stillAllowed func(subscriptions.Client) bool
}

// outbox hands each client its messages in the order they were posted. A
// client's Send blocks until its connection takes the message, so each
// client with messages waiting gets a goroutine of its own that sends them
// one after the other and ends when none is left: posting never blocks, and
// a slow client only delays itself.
type outbox struct {
	mu     sync.Mutex
	queues map[subscriptions.Client][]delivery // present: a sender is running
}

func (o *outbox) post(c subscriptions.Client, d delivery) {
	o.mu.Lock()
	if o.queues == nil {
		o.queues = map[subscriptions.Client][]delivery{}
	}
	q, running := o.queues[c]
	o.queues[c] = append(q, d)
	o.mu.Unlock()
	if !running {
		go o.send(c)
	}
}

func (o *outbox) send(c subscriptions.Client) {
	for {
		o.mu.Lock()
		q := o.queues[c]
		if len(q) == 0 {
			delete(o.queues, c)
			o.mu.Unlock()
			return
		}
		d := q[0]
		q[0] = delivery{}
		o.queues[c] = q[1:]
		o.mu.Unlock()
		safely(func() {
			if d.stillAllowed == nil || d.stillAllowed(c) {
				c.Send(d.msg) // returns at once for a client that has gone
			}
		})
	}
}

// waiting counts the clients that still have messages to receive (tests).
func (o *outbox) waiting() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.queues)
}
