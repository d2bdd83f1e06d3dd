package realtime

import (
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

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

// outbox hands each client its messages in the order they were posted.
//
// A client served by the engine's own connection loop (conn.go) has a
// queue attached for as long as its connection lives: post appends to it
// and wakes the connection, which writes what waits in batches. Any other
// client (one registered in the broker by other code, whose Send blocks
// until something reads its channel) gets a goroutine of its own while it
// has messages waiting, which sends them one after the other: posting
// never blocks, and a slow client only delays itself.
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
	flusher               *flusher

	queues   sync.Map // subscriptions.Client -> *queue, attached or while a sender runs
	senders  atomic.Int64
	attaches atomic.Int64 // attached queues
	topics   topicCounts  // the attached clients' subscriptions, by collection
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
	done  bool // its sender or connection ended: post makes a new queue (or drops, if attached)

	// wake is set for a queue attached to the client's connection loop,
	// which it wakes (buffered: one wake stands for any number of posts).
	wake chan struct{}
	// paced: the connection writes on its pace timer, so posting does not
	// wake it (attached queues only; under mu).
	paced bool
	// subs is the connection's subscriptions, parsed once per subscription
	// request (attached queues only).
	subs atomic.Pointer[[]subscription]

	// Set for a connection the flusher writes (flusher.go): its stream,
	// and its client.
	stream   *stream
	client   subscriptions.Client
	clientId string
	// scheduled: in the flusher's heap, being written, or handed back to
	// the connection's goroutine, so posting does not schedule it again
	// (under mu).
	scheduled bool
	// nextAt is when the pacing lets the next write go (under mu); dueAt is
	// the queue's place in the flusher's heap (under the flusher's mu).
	nextAt time.Time
	dueAt  int64 // since monoEpoch (plain integers keep the heap's comparisons cheap)
	// handedBack: the flusher handed its last write back to the
	// connection's goroutine, with its error if it failed (under mu).
	handedBack bool
	writeErr   error
	// lastActive is the time of the last write (Unix ns), for the idle
	// timeout.
	lastActive atomic.Int64
	window     int64 // the pacer's window of the last write (flusher only)
}

// subscription is one of a client's subscriptions: its name, its topic
// (the name without its options), its options, and whether it has no
// options but fields (plain: decided by the client's auth alone).
type subscription struct {
	name, topic string
	options     subscriptions.SubscriptionOptions
	plain       bool
}

func newSubscription(name string, options subscriptions.SubscriptionOptions) subscription {
	plain := len(options.Headers) == 0 && (len(options.Query) == 0 || (len(options.Query) == 1 && options.Query["fields"] != ""))
	return subscription{name: name, topic: topicOf(name), options: options, plain: plain}
}

// setSubscriptions replaces the snapshot of attached queue q's
// subscriptions (and their counts by collection).
func (o *outbox) setSubscriptions(q *queue, all map[string]subscriptions.SubscriptionOptions) {
	subs := make([]subscription, 0, len(all))
	for name, options := range all {
		subs = append(subs, newSubscription(name, options))
	}
	o.topics.mu.Lock()
	defer o.topics.mu.Unlock()
	if old := q.subs.Swap(&subs); old != nil {
		o.topics.addLocked(*old, -1)
	}
	o.topics.addLocked(subs, 1)
}

// attach gives client c a queue that its connection loop drains.
func (o *outbox) attach(c subscriptions.Client) *queue {
	q := &queue{wake: make(chan struct{}, 1)}
	o.setSubscriptions(q, c.Subscriptions())
	o.queues.Store(c, q)
	o.attaches.Add(1)
	return q
}

// detach forgets c's attached queue q (its connection ended).
func (o *outbox) detach(c subscriptions.Client, q *queue) {
	q.mu.Lock()
	q.done, q.items, q.bytes = true, nil, 0
	q.mu.Unlock()
	o.queues.CompareAndDelete(c, q)
	o.attaches.Add(-1)
	o.setSubscriptions(q, nil)
}

// attached is c's queue if its connection loop drains it, else nil.
func (o *outbox) attached(c subscriptions.Client) *queue {
	if v, ok := o.queues.Load(c); ok {
		if q := v.(*queue); q.wake != nil {
			return q
		}
	}
	return nil
}

// setPaced marks whether the connection writes on its pace timer.
func (q *queue) setPaced(paced bool) {
	q.mu.Lock()
	q.paced = paced
	q.mu.Unlock()
}

func (q *queue) isPaced() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.paced
}

// unpace ends the pacing if nothing waits (and tells whether it did): the
// next post wakes the connection.
func (q *queue) unpace() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.items) > 0 {
		return false
	}
	q.paced = false
	return true
}

// take moves up to writeBatch waiting messages (and writeBatchBytes, but at
// least one) into buf.
func (q *queue) take(buf []delivery) []delivery {
	q.mu.Lock()
	defer q.mu.Unlock()
	n, size := 0, 0
	for n < len(q.items) && n < writeBatch && (n == 0 || size+len(q.items[n].msg.Data) <= writeBatchBytes) {
		size += len(q.items[n].msg.Data)
		n++
	}
	buf = append(buf, q.items[:n]...)
	clear(q.items[:n])
	switch {
	case n < len(q.items):
		q.items = q.items[n:]
	case cap(q.items) <= 2*writeBatch:
		q.items = q.items[:0] // all taken: the next posts reuse the array
	default:
		q.items = nil // a burst's array is not kept
	}
	q.bytes -= size
	return buf
}

func (o *outbox) post(c subscriptions.Client, d delivery) { o.postTo(c, nil, d) }

// postTo is post for client c whose attached queue the caller may know
// (q; nil: look it up).
func (o *outbox) postTo(c subscriptions.Client, q *queue, d delivery) {
	if c.IsDiscarded() {
		return
	}
	start := false
	if q != nil {
		q.mu.Lock()
		if q.done {
			q.mu.Unlock()
			return // its connection ended
		}
	}
	for q == nil {
		v, loaded := o.queues.Load(c)
		if !loaded {
			v, loaded = o.queues.LoadOrStore(c, &queue{})
		}
		found := v.(*queue)
		found.mu.Lock()
		if !found.done {
			q, start = found, !loaded && found.wake == nil
			break
		}
		found.mu.Unlock()
		if found.wake != nil {
			return // its connection ended
		}
	}
	if d.key != (updateKey{}) && len(q.items) >= coalesceAfter {
		for i := range q.items {
			if q.items[i].key == d.key {
				q.bytes -= len(q.items[i].msg.Data)
				q.items = append(q.items[:i], q.items[i+1:]...)
				counts.coalesced.Add(1)
				break
			}
		}
	}
	q.items = append(q.items, d)
	q.bytes += len(d.msg.Data)
	wake := len(q.items) == 1 && !q.paced // else its connection is woken already or will be by its pace timer
	overflow := (o.maxMessages > 0 && len(q.items) > o.maxMessages) || (o.maxBytes > 0 && q.bytes > o.maxBytes)
	if overflow {
		q.items, q.bytes = nil, 0
	}
	flushed := q.stream != nil
	schedule := flushed && !q.scheduled && !overflow
	var at time.Time
	if schedule {
		q.scheduled, at = true, q.nextAt
	}
	q.mu.Unlock()
	if flushed {
		wake = false // the flusher writes it
		if schedule {
			o.flusher.add(q, at)
		}
	}
	if q.wake != nil && wake {
		select {
		case q.wake <- struct{}{}:
		default: // already woken
		}
	}
	if start {
		o.senders.Add(1)
		go o.send(c, q)
	}
	if overflow {
		n := counts.cutQueueFull.Add(1)
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
