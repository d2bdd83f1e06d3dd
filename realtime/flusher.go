package realtime

import (
	"container/heap"
	"math"
	"sync"
	"time"
)

// flusher writes the waiting messages of the connections taken over as
// plain TCP (stream.raw), from one goroutine, in the order their writes
// fall due.
//
// With one goroutine per connection, every paced write was a timer firing,
// a goroutine woken and scheduled, a select and a blocking write: at 5,000
// agents about 16,000 goroutine wake-ups a second, which crowded the run
// queues the request handlers wait in. Here a connection with messages
// waiting is an entry in a heap of due times; the flusher pops what is due
// and writes it with a non-blocking writev. The pacing is the same: after
// a write, a connection's next write is due no sooner than the pacer's
// interval (jittered); a connection that has been quiet for an interval is
// due at once.
//
// A write that the socket does not take whole (the client reads slowly) is
// handed back to the connection's own goroutine, which writes the rest
// under the write timeout (and cuts the client off when it runs out)
// before the connection is due again; the flusher never waits on a client.
type flusher struct {
	pace *pacer

	mu         sync.Mutex
	due        dueQueues
	running    bool  // the goroutine runs
	sleepUntil int64 // while it sleeps: when it wakes (since monoEpoch; 0: awake)
	wake       chan struct{}

	batch []delivery // the flusher goroutine's only
}

func newFlusher(pace *pacer) *flusher {
	return &flusher{pace: pace, wake: make(chan struct{}, 1)}
}

// add makes queue q due at at (q.scheduled is set by the caller).
func (f *flusher) add(q *queue, at time.Time) {
	f.mu.Lock()
	q.dueAt = mono(at)
	heap.Push(&f.due, q)
	start := !f.running
	f.running = true
	kick := !start && f.sleepUntil != 0 && q.dueAt < f.sleepUntil
	if kick {
		f.sleepUntil = 0
	}
	f.mu.Unlock()
	if start {
		go f.run()
	}
	if kick {
		select {
		case f.wake <- struct{}{}:
		default:
		}
	}
}

// run writes the queues as they fall due; it ends when none is left.
func (f *flusher) run() {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var ready []*queue
	for {
		f.mu.Lock()
		now := time.Now()
		for len(f.due) > 0 && f.due[0].dueAt <= mono(now) {
			ready = append(ready, heap.Pop(&f.due).(*queue))
		}
		if len(ready) == 0 {
			if len(f.due) == 0 {
				f.running = false
				f.mu.Unlock()
				return
			}
			until := max(f.due[0].dueAt, 1)
			f.sleepUntil = until
			f.mu.Unlock()
			timer.Reset(time.Duration(until - mono(now)))
			select {
			case <-timer.C:
			case <-f.wake:
				timer.Stop()
			}
			f.mu.Lock()
			f.sleepUntil = 0
			f.mu.Unlock()
			continue
		}
		f.mu.Unlock()
		for i, q := range ready {
			safely(func() { f.flush(q) })
			ready[i] = nil
		}
		ready = ready[:0]
	}
}

// flush writes everything waiting in q, then makes it due again after the
// pacing interval if more came in, or leaves it idle.
func (f *flusher) flush(q *queue) {
	s := q.stream
	s.mu.Lock()
	wrote := false
	for {
		f.batch = q.take(f.batch[:0])
		if len(f.batch) == 0 {
			break
		}
		n := 0
		for i := range f.batch {
			d := &f.batch[i]
			if d.stillAllowed == nil || d.stillAllowed(q.client) {
				s.add(&d.msg, q.clientId)
				n++
			}
		}
		clear(f.batch)
		if n == 0 {
			continue
		}
		counts.writes.Add(1)
		counts.messagesWritten.Add(int64(n))
		whole, err := s.tryFlush()
		if err != nil || !whole {
			// the connection's goroutine takes it from here: it writes
			// the rest under the write timeout (or ends the connection)
			// and makes the queue due again; q stays scheduled meanwhile
			if err == nil {
				counts.handedBack.Add(1)
			}
			q.mu.Lock()
			q.handedBack, q.writeErr = true, err
			q.mu.Unlock()
			s.mu.Unlock()
			select {
			case q.wake <- struct{}{}:
			default:
			}
			return
		}
		wrote = true
	}
	s.mu.Unlock()
	f.wrote(q, wrote)
}

// wrote paces q after a write (if there was one) and makes it due again if
// messages came in meanwhile, or idle.
func (f *flusher) wrote(q *queue, wrote bool) {
	now := time.Now()
	var interval time.Duration
	if wrote {
		q.lastActive.Store(now.UnixNano())
		f.pace.wrote(&q.window, now)
		interval = f.pace.interval()
	}
	q.mu.Lock()
	if wrote {
		q.nextAt = time.Time{}
		if interval > 0 {
			q.nextAt = now.Add(jittered(interval))
		}
	}
	if len(q.items) == 0 || q.done {
		q.scheduled = false
		q.mu.Unlock()
		return
	}
	at := q.nextAt
	q.mu.Unlock()
	f.add(q, at)
}

// monoEpoch is the origin of the flusher's due times: mono(t) is t as
// nanoseconds since it, on the monotonic clock (the zero time, "due now",
// is far before it).
var monoEpoch = time.Now()

func mono(t time.Time) int64 {
	if t.IsZero() {
		return math.MinInt64
	}
	return int64(t.Sub(monoEpoch))
}

// dueQueues is a heap of queues by due time.
type dueQueues []*queue

func (h dueQueues) Len() int           { return len(h) }
func (h dueQueues) Less(i, j int) bool { return h[i].dueAt < h[j].dueAt }
func (h dueQueues) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *dueQueues) Push(x any)        { *h = append(*h, x.(*queue)) }
func (h *dueQueues) Pop() any {
	old := *h
	q := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return q
}
