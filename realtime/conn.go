package realtime

import (
	"errors"
	"log/slog"
	"net/http"
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
// Here the dispatcher appends a client's messages to its queue and wakes
// the connection's own goroutine, which writes everything waiting (up to
// writeBatch messages) under one write deadline and flushes once. The rest
// is PocketBase's: the client is registered in the broker while the
// connection lives, PB_CONNECT goes out through OnRealtimeMessageSend,
// messages PocketBase or other code sends on the client's channel are
// written through OnRealtimeMessageSend as before, and a connection ends
// after 5 minutes without a message or 30 minutes in all (the
// RealtimeConnectRequestEvent's timeouts), when the request ends, or when
// the client is unregistered (which is how it is cut off). The engine's own
// messages (record events of tickets and messages, the admin room) do not
// pass through OnRealtimeMessageSend.

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

	// the snapshot of a connection's subscriptions follows each request
	// that changes them
	rt.app.OnRealtimeSubscribeRequest().BindFunc(func(e *core.RealtimeSubscribeRequestEvent) error {
		err := e.Next()
		if q := rt.out.attached(e.Client); q != nil {
			q.setSubscriptions(e.Client.Subscriptions())
		}
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
	idleTimer := time.NewTimer(e.IdleTimeout)
	defer idleTimer.Stop()
	rc := http.NewResponseController(e.Response)
	done := e.Request.Context().Done()
	var batch []delivery

	for {
		select {
		case <-maxTimer.C:
			return nil
		case <-idleTimer.C:
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
			for {
				batch = q.take(batch[:0])
				if len(batch) == 0 {
					break
				}
				if err := rt.write(rc, e.Response, client, id, batch); err != nil {
					return nil
				}
				clear(batch)
			}
		}
		idleTimer.Reset(e.IdleTimeout)
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

// write writes a batch of deliveries under one deadline, with one flush.
// A delivery whose client lost the right to it since it was queued is
// skipped. A write that times out cuts the client off.
func (rt *engine) write(rc *http.ResponseController, w http.ResponseWriter, client subscriptions.Client, id string, batch []delivery) error {
	if err := rc.SetWriteDeadline(time.Now().Add(rt.limits.WriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	wrote := false
	for i := range batch {
		d := &batch[i]
		if d.stillAllowed != nil && !d.stillAllowed(client) {
			continue
		}
		if err := d.msg.WriteSSE(w, id); err != nil {
			rt.writeFailed(client, id, err)
			return err
		}
		wrote = true
	}
	if !wrote {
		return nil
	}
	if err := rc.Flush(); err != nil {
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
