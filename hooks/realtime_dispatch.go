package hooks

import (
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"

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
// revoked or changed meanwhile does not get it. A delivery with a key
// replaces a waiting one with the same key (a newer update of the same
// record for the same subscription).
type delivery struct {
	msg          subscriptions.Message
	stillAllowed func(subscriptions.Client) bool
	key          updateKey
}

// updateKey names an update of one record for one subscription (zero: the
// message replaces nothing).
type updateKey struct{ record, sub string }

// outbox hands each client its messages in the order they were posted. A
// client's Send blocks until its connection takes the message, so each
// client with messages waiting gets a goroutine of its own that sends them
// one after the other and ends when none is left: posting never blocks, and
// a slow client only delays itself.
//
// A client's queue is bounded (maxMessages, maxBytes): a client whose queue
// is full is handed to full (which cuts it off) and its queue dropped. Once
// coalesceAfter messages wait, an update that replaces a waiting one takes
// its place at the end, so that a client that fell behind gets a burst of
// updates of one record as one message (a client that keeps up hears every
// update).
type outbox struct {
	maxMessages, maxBytes int
	full                  func(subscriptions.Client)

	queues  sync.Map // subscriptions.Client -> *queue, while a sender runs
	senders atomic.Int64
}

// coalesceAfter is how many messages must wait for a client before its
// updates coalesce.
const coalesceAfter = 64

// queue is one client's waiting messages, with a lock of its own so that
// clients do not wait on each other.
type queue struct {
	mu    sync.Mutex
	items []delivery
	bytes int
	done  bool // its sender ended: post makes a new queue
}

func (o *outbox) post(c subscriptions.Client, d delivery) {
	if c.IsDiscarded() {
		return
	}
	var q *queue
	start := false
	for {
		v, loaded := o.queues.Load(c)
		if !loaded {
			v, loaded = o.queues.LoadOrStore(c, &queue{})
		}
		q = v.(*queue)
		q.mu.Lock()
		if !q.done {
			start = !loaded
			break
		}
		q.mu.Unlock()
	}
	if d.key != (updateKey{}) && len(q.items) >= coalesceAfter {
		for i := range q.items {
			if q.items[i].key == d.key {
				q.bytes -= len(q.items[i].msg.Data)
				q.items = append(q.items[:i], q.items[i+1:]...)
				realtimeCounts.coalesced.Add(1)
				break
			}
		}
	}
	q.items = append(q.items, d)
	q.bytes += len(d.msg.Data)
	overflow := (o.maxMessages > 0 && len(q.items) > o.maxMessages) || (o.maxBytes > 0 && q.bytes > o.maxBytes)
	if overflow {
		q.items, q.bytes = nil, 0
	}
	q.mu.Unlock()
	if start {
		o.senders.Add(1)
		go o.send(c, q)
	}
	if overflow {
		n := realtimeCounts.cutQueueFull.Add(1)
		slog.Warn("realtime client cut off: its queue of waiting messages is full",
			"client", c.Id(), "maxMessages", o.maxMessages, "maxBytes", o.maxBytes, "cutQueueFullTotal", n)
		if o.full != nil {
			o.full(c)
		}
	}
}

func (o *outbox) send(c subscriptions.Client, q *queue) {
	defer o.senders.Add(-1)
	for {
		q.mu.Lock()
		if len(q.items) == 0 {
			q.done = true
			o.queues.Delete(c)
			q.mu.Unlock()
			return
		}
		d := q.items[0]
		q.items[0] = delivery{}
		q.items = q.items[1:]
		q.bytes -= len(d.msg.Data)
		q.mu.Unlock()
		safely(func() {
			if d.stillAllowed == nil || d.stillAllowed(c) {
				c.Send(d.msg) // returns at once for a client that has gone
			}
		})
	}
}

// drop forgets what client c was still to receive.
func (o *outbox) drop(c subscriptions.Client) {
	if v, ok := o.queues.Load(c); ok {
		q := v.(*queue)
		q.mu.Lock()
		q.items, q.bytes = nil, 0
		q.mu.Unlock()
	}
}

// waiting counts the clients that still have messages to receive (tests).
func (o *outbox) waiting() int {
	return int(o.senders.Load())
}
