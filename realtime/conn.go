package realtime

import (
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// The engine serves each realtime connection itself, in place of
// PocketBase's loop (apis.realtimeConnect), which hands a connection one
// message at a time through an unbuffered channel and writes and flushes
// each one on its own: with thousands of subscribers that was one goroutine
// hand-over, one hook chain and one system call per message per client.
//
// Here the dispatcher appends a client's messages to its queue. A
// connection taken over as plain TCP (below) is then written by the
// flusher (flusher.go); any other has its own goroutine woken, which
// writes everything waiting (up to writeBatch messages) under one write
// deadline and flushes once. The rest
// is PocketBase's: the client is registered in the broker while the
// connection lives, PB_CONNECT goes out through OnRealtimeMessageSend,
// messages PocketBase or other code sends on the client's channel are
// written through OnRealtimeMessageSend as before, and a connection ends
// after 5 minutes without a message or 30 minutes in all (the
// RealtimeConnectRequestEvent's timeouts), when the client leaves, or when
// the client is unregistered (which is how it is cut off). The engine's own
// messages (record events of tickets and messages, the admin room) do not
// pass through OnRealtimeMessageSend. Once PB_CONNECT is out the connection
// is taken over from net/http (stream.go), and each connection's writes are
// paced when many connections are written to (pacer).

// writeBatch bounds what one write round takes from a client's queue, so
// that the write deadline covers a bounded amount of data.
const (
	writeBatch      = 64
	writeBatchBytes = 256 << 10
)

// bindConnections binds the engine's connection loop as the last handler
// of the connect request (it does not call the rest of the chain, which is
// PocketBase's loop).
func (rt *engine) bindConnections() {
	rt.app.OnRealtimeConnectRequest().Bind(&hook.Handler[*core.RealtimeConnectRequestEvent]{
		Id:       "portalRealtimeConnection",
		Priority: 1 << 20,
		Func: func(e *core.RealtimeConnectRequestEvent) error {
			if pocketBaseBroadcasts.Load() {
				return e.Next() // the baseline of the benchmarks: PocketBase's loop
			}
			return rt.serve(e)
		},
	})

	// The snapshot of a connection's subscriptions follows each request
	// that changes them. While the request runs it holds the old and the
	// new ones, so that the counts by collection (quiet.go) never miss a
	// subscription that PocketBase already holds.
	rt.app.OnRealtimeSubscribeRequest().BindFunc(func(e *core.RealtimeSubscribeRequestEvent) error {
		q := rt.out.attached(e.Client)
		if q == nil {
			return e.Next()
		}
		both := e.Client.Subscriptions()
		for _, name := range e.Subscriptions {
			both[name] = subscriptions.SubscriptionOptions{}
		}
		rt.out.setSubscriptions(q, both)
		err := e.Next()
		rt.out.setSubscriptions(q, e.Client.Subscriptions())
		return err
	})
}

// serve is the connection's loop.
func (rt *engine) serve(e *core.RealtimeConnectRequestEvent) error {
	app, client := e.App, e.Client
	id := client.Id()
	broker := app.SubscriptionsBroker()

	q := rt.out.attach(client)
	defer rt.out.detach(client, q)
	broker.Register(client)
	defer broker.Unregister(id)

	app.Logger().Debug("Realtime connection established", slog.String("clientId", id))

	if err := rt.sendThroughHooks(e, subscriptions.Message{
		Name: "PB_CONNECT",
		Data: []byte(`{"clientId":"` + id + `"}`),
	}); err != nil {
		app.Logger().Debug("Realtime connection closed (failed to deliver PB_CONNECT)", slog.String("clientId", id), slog.String("error", err.Error()))
		return nil
	}

	maxTimer := time.NewTimer(e.MaxTimeout)
	defer maxTimer.Stop()
	// the idle timer is re-armed when it fires, not on every message
	idleTimer := time.NewTimer(e.IdleTimeout)
	defer idleTimer.Stop()
	lastActive := time.Now()
	// paceTimer holds the next write back while the pacing asks for it
	// (while the queue is paced, posting does not wake the connection)
	paceTimer := time.NewTimer(time.Hour)
	paceTimer.Stop()
	defer paceTimer.Stop()
	var lastWrite time.Time
	var window int64
	w := newStream(e.Response, rt.limits.WriteTimeout)
	done := e.Request.Context().Done()
	if w.takeOver() {
		defer w.close()
		done = w.gone
		// the hooks of later messages write to the taken-over stream (the
		// router's own writer is put back for the middlewares' look at the
		// response once the connection ends)
		router := e.Response
		e.Response = &hooked{s: w}
		defer func() { e.Response = router }()
	}
	var batch []delivery

	// writeWaiting writes everything waiting, in rounds of writeBatch, and
	// paces the queue for the interval that follows (or unpaces it when
	// nothing was waiting).
	writeWaiting := func() error {
		for {
			wrote := false
			for {
				batch = q.take(batch[:0])
				if len(batch) == 0 {
					break
				}
				if err := rt.write(w, client, id, batch); err != nil {
					return err
				}
				clear(batch)
				wrote = true
			}
			if wrote {
				lastWrite = time.Now()
				rt.pace.wrote(&window, lastWrite)
				if interval := rt.pace.interval(); interval > 0 {
					q.setPaced(true)
					paceTimer.Reset(jittered(interval))
					return nil
				}
			}
			if q.unpace() {
				return nil
			}
			// a message came in between: write it too
		}
	}

	// onWake answers a wake of the queue: it tells whether the connection
	// did anything (for the idle timer); an error ends the connection.
	onWake := func() (bool, error) {
		if q.isPaced() {
			return false, nil // a wake from before the pacing: the pace timer writes
		}
		if wait := time.Until(lastWrite.Add(rt.pace.interval())); wait > 0 {
			q.setPaced(true)
			paceTimer.Reset(wait)
			return false, nil
		}
		return true, writeWaiting()
	}
	paced := paceTimer.C
	if w.raw != nil {
		// a plain TCP connection: the flusher writes the queue and paces
		// it (flusher.go); a wake is a write it handed back
		rt.flushQueue(q, w, client)
		onWake = func() (bool, error) { return rt.finishHandedBack(q, w, client) }
		paced = nil
	}

	for {
		select {
		case <-maxTimer.C:
			return nil
		case <-idleTimer.C:
			last := lastActive
			if wrote := time.Unix(0, q.lastActive.Load()); wrote.After(last) {
				last = wrote // the flusher's last write
			}
			if idle := time.Since(last); idle < e.IdleTimeout {
				idleTimer.Reset(e.IdleTimeout - idle)
				continue
			}
			return nil
		case <-done:
			return nil
		case msg, ok := <-client.Channel():
			if !ok {
				return nil // unregistered: cut off, or the server stopping
			}
			if err := rt.sendThroughHooks(e, msg); err != nil {
				app.Logger().Debug("Realtime connection closed (failed to deliver message)", slog.String("clientId", id), slog.String("error", err.Error()))
				return nil
			}
		case <-q.wake:
			active, err := onWake()
			if err != nil {
				return nil
			}
			if !active {
				continue
			}
		case <-paced:
			if writeWaiting() != nil {
				return nil
			}
		}
		lastActive = time.Now()
	}
}

// flushQueue hands client's queue q to the flusher, which writes it to w
// from now on (anything already waiting at once).
func (rt *engine) flushQueue(q *queue, w *stream, client subscriptions.Client) {
	q.mu.Lock()
	q.stream, q.client, q.clientId = w, client, client.Id()
	schedule := len(q.items) > 0 && !q.scheduled
	q.scheduled = q.scheduled || schedule
	q.mu.Unlock()
	if schedule {
		rt.flusher.add(q, time.Time{})
	}
}

// finishHandedBack writes the rest of a write the flusher handed back,
// under the write timeout, and makes the queue due again. It tells whether
// there was one; an error (the flusher's, or the timeout, which cuts the
// client off) ends the connection.
func (rt *engine) finishHandedBack(q *queue, w *stream, client subscriptions.Client) (bool, error) {
	q.mu.Lock()
	handedBack, err := q.handedBack, q.writeErr
	q.handedBack, q.writeErr = false, nil
	q.mu.Unlock()
	if !handedBack {
		return false, nil // a wake from before the flusher took the queue
	}
	if err == nil {
		w.mu.Lock()
		err = w.writePending()
		w.mu.Unlock()
	}
	if err != nil {
		rt.writeFailed(client, client.Id(), err)
		return false, err
	}
	rt.flusher.wrote(q, true)
	return true, nil
}

// pacer spaces each connection's writes when many connections are being
// written to: a write is a system call that costs more than everything
// else a message needs (an estimated 20 to 60 µs of CPU on loopback here,
// the receiving side's included), so at 5,000
// agents hearing 10 tickets a second, one write per message per agent was
// more than two cores could do. Each connection writes at most once per
// interval, where the interval is the number of connections written in the
// last second divided by the budget of writes per second
// (PORTAL_REALTIME_WRITES_PER_SECOND), at most maxPaceInterval. A
// connection that has written nothing for an interval writes at once, so
// that a lightly loaded server adds no delay; under load, a connection's
// messages of one interval go out in one write.
type pacer struct {
	budget      int64        // writes per second
	window      atomic.Int64 // the current one-second window (Unix seconds)
	cur, before atomic.Int64 // connections written in the current and the previous window
}

const maxPaceInterval = time.Second

// jittered is d give or take a tenth, at random: connections that heard
// the same event would otherwise keep writing in step, all their writes
// falling due at once, and a request arriving then waits behind them. (A
// tenth drifts them apart within a few intervals; a wider spread makes the
// longest waits longer for the same number of writes.)
func jittered(d time.Duration) time.Duration {
	return d*9/10 + rand.N(d/5+1)
}

// interval is how long a connection waits after a write before the next.
func (p *pacer) interval() time.Duration {
	if p.budget <= 0 {
		return 0
	}
	active := max(p.cur.Load(), p.before.Load())
	return min(time.Duration(active)*time.Second/time.Duration(p.budget), maxPaceInterval)
}

// wrote counts a write of a connection at now; window is the connection's
// own record of the last window it was counted in.
func (p *pacer) wrote(window *int64, now time.Time) {
	sec := now.Unix()
	if w := p.window.Load(); w != sec && p.window.CompareAndSwap(w, sec) {
		n := p.cur.Swap(0)
		if sec != w+1 {
			n = 0 // a quiet second went by
		}
		p.before.Store(n)
	}
	if *window != sec {
		*window = sec
		p.cur.Add(1)
	}
}

// sendThroughHooks writes one message the way PocketBase does: through the
// OnRealtimeMessageSend hooks, flushed.
func (rt *engine) sendThroughHooks(e *core.RealtimeConnectRequestEvent, msg subscriptions.Message) error {
	me := new(core.RealtimeMessageEvent)
	me.RequestEvent = e.RequestEvent
	me.Client = e.Client
	me.Message = &msg
	return rt.app.OnRealtimeMessageSend().Trigger(me, func(me *core.RealtimeMessageEvent) error {
		if err := me.Message.WriteSSE(me.Response, me.Client.Id()); err != nil {
			return err
		}
		return me.Flush()
	})
}

// write writes a batch of deliveries with one flush. A delivery whose
// client lost the right to it since it was queued is skipped. A write that
// times out cuts the client off.
func (rt *engine) write(w *stream, client subscriptions.Client, id string, batch []delivery) error {
	wrote := 0
	for i := range batch {
		d := &batch[i]
		if d.stillAllowed != nil && !d.stillAllowed(client) {
			continue
		}
		w.add(&d.msg, id)
		wrote++
	}
	if wrote == 0 {
		return nil
	}
	// counted before the write, so that a client that has the messages
	// finds them counted
	counts.writes.Add(1)
	counts.messagesWritten.Add(int64(wrote))
	if err := w.flush(); err != nil {
		rt.writeFailed(client, id, err)
		return err
	}
	return nil
}

func (rt *engine) writeFailed(client subscriptions.Client, id string, err error) {
	if !isTimeout(err) {
		rt.app.Logger().Debug("Realtime connection closed (failed to deliver message)", slog.String("clientId", id), slog.String("error", err.Error()))
		return
	}
	n := counts.cutSlow.Add(1)
	rt.app.SubscriptionsBroker().Unregister(id)
	rt.app.Logger().Warn("realtime client cut off: it did not read for the write timeout",
		"client", id, "timeout", rt.limits.WriteTimeout.String(), "cutSlowTotal", n)
}
