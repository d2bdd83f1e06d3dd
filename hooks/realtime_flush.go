package hooks

import (
	"net/http"

	"github.com/pocketbase/pocketbase/core"
)

// Flushing once per batch. PocketBase writes each realtime message and
// flushes it, one write system call per message and client: the largest
// cost of a fan-out in the profile (docs/realtime.md, "Scale"). While more
// messages wait in the client's outbox queue, the flush is left to the
// last of them, so a client that fell behind gets its backlog in a few
// writes (the server's buffer still writes whenever it fills). The last
// message waiting always flushes: the flush is only skipped when another
// message is queued that the client may still receive (its send-time check
// asked now), and that one passes through here too. (Left: if the
// client's auth changes between that check and the sender's own, the
// unflushed message waits for the client's next message or the end of the
// connection, which flushes.)

// batchingWriter is a response whose flush is skipped while more() tells
// that another message follows.
type batchingWriter struct {
	http.ResponseWriter
	more func() bool
}

func (w batchingWriter) FlushError() error {
	if w.more() {
		return nil
	}
	return http.NewResponseController(w.ResponseWriter).Flush()
}

func (w batchingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (rt *realtime) bindBatchedFlush() {
	rt.app.OnRealtimeMessageSend().BindFunc(func(e *core.RealtimeMessageEvent) error {
		if e.RequestEvent == nil || e.Response == nil {
			return e.Next()
		}
		// the connection's request event is shared by all its messages:
		// put its response back after this one
		orig := e.Response
		e.Response = batchingWriter{orig, func() bool { return rt.out.pending(e.Client) }}
		defer func() { e.Response = orig }()
		return e.Next()
	})
}
