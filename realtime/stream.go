package realtime

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// stream writes a connection's event stream.
//
// Once the response's head and PB_CONNECT have gone out through net/http,
// an HTTP/1.x connection is taken over (hijacked): net/http writes a
// response through two buffers of 2 and 4 KiB and a chunk writer, so a
// batch of three ticket events (about 5 KiB) took three system calls, and
// a system call is most of what a message costs. On the raw connection
// the stream writes each batch as one HTTP chunk with one writev, however
// large. Where the connection cannot be taken over (HTTP/2, a test
// recorder) it writes through the ResponseWriter as before.
//
// Taking the connection over also means noticing on our own that the
// client went away (net/http stops reading it): a goroutine reads the
// connection until it fails and then closes gone. The stream ends with the
// last chunk ("0\r\n\r\n") and the connection is closed when serve
// returns.
type stream struct {
	// the ResponseWriter, until the connection is taken over
	rc *http.ResponseController
	w  http.ResponseWriter

	// the connection, once taken over
	conn net.Conn
	gone chan struct{}
	// raw is the connection's socket, when it is plain TCP: the flusher
	// writes to it without blocking (tryFlush)
	raw syscall.RawConn

	// mu orders the writes of a taken-over connection: the flusher's and
	// the connection goroutine's (the rest of a write handed back, and the
	// messages of the hooks). pending is what the socket did not take of
	// the flusher's last write.
	mu      sync.Mutex
	pending []byte

	timeout  time.Duration
	deadline time.Time
	buf      []byte   // the batch being framed
	hdr      [18]byte // the chunk's size line
}

func newStream(w http.ResponseWriter, timeout time.Duration) *stream {
	return &stream{rc: http.NewResponseController(w), w: w, timeout: timeout}
}

// takeOver hijacks the connection if it can (everything written so far has
// been flushed). It tells whether it did.
func (s *stream) takeOver() bool {
	conn, rw, err := s.rc.Hijack()
	if err != nil {
		return false
	}
	s.conn, s.gone = conn, make(chan struct{})
	s.deadline = time.Time{} // hijacking clears the connection's deadlines
	if tcp, ok := conn.(*net.TCPConn); ok {
		if raw, err := tcp.SyscallConn(); err == nil {
			s.raw = raw
		}
	}
	go func() {
		defer close(s.gone)
		// an event stream's client sends nothing more: any byte is read and
		// dropped, and the read ends when the connection does
		io.Copy(io.Discard, rw.Reader)
	}()
	return true
}

// close ends a taken-over stream: the last chunk, then the connection.
func (s *stream) close() {
	if s.conn == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.conn.SetWriteDeadline(time.Now().Add(time.Second))
	s.conn.Write([]byte("0\r\n\r\n"))
	s.conn.Close()
}

// renewDeadline sets the write deadline, only when less than half of the
// write timeout is left, so that a write has between half and all of the
// timeout, without a deadline change per write.
func (s *stream) renewDeadline() error {
	now := time.Now()
	if s.deadline.Sub(now) >= s.timeout/2 {
		return nil
	}
	s.deadline = now.Add(s.timeout)
	var err error
	if s.conn != nil {
		err = s.conn.SetWriteDeadline(s.deadline)
	} else {
		err = s.rc.SetWriteDeadline(s.deadline)
	}
	if errors.Is(err, http.ErrNotSupported) {
		return nil
	}
	return err
}

// add frames one message (as subscriptions.Message.WriteSSE does) into the
// batch being built.
func (s *stream) add(msg *subscriptions.Message, id string) {
	s.buf = append(s.buf, "id:"...)
	s.buf = append(s.buf, id...)
	s.buf = append(s.buf, "\nevent:"...)
	s.buf = append(s.buf, msg.Name...)
	s.buf = append(s.buf, "\ndata:"...)
	s.buf = append(s.buf, msg.Data...)
	s.buf = append(s.buf, "\n\n"...)
}

// flush writes the batch built so far, as one chunk with one system call
// on a taken-over connection, and empties it.
func (s *stream) flush() error {
	if len(s.buf) == 0 {
		return nil
	}
	defer func() {
		if cap(s.buf) > 1<<20 {
			s.buf = nil // a burst's buffer is not kept
		} else {
			s.buf = s.buf[:0]
		}
	}()
	if err := s.renewDeadline(); err != nil {
		return err
	}
	if s.conn == nil {
		if _, err := s.w.Write(s.buf); err != nil {
			return err
		}
		return s.rc.Flush()
	}
	hdr := strconv.AppendInt(s.hdr[:0], int64(len(s.buf)), 16)
	hdr = append(hdr, '\r', '\n')
	bufs := net.Buffers{hdr, s.buf, crlf}
	_, err := bufs.WriteTo(s.conn)
	return err
}

var crlf = []byte("\r\n")

// tryFlush writes the batch built so far as one chunk, on a plain TCP
// connection, with one writev that does not wait for the socket (the
// caller holds mu). It tells whether the socket took all of it; what it
// did not take is kept in pending for writePending.
func (s *stream) tryFlush() (whole bool, err error) {
	if len(s.buf) == 0 {
		return true, nil
	}
	hdr := strconv.AppendInt(s.hdr[:0], int64(len(s.buf)), 16)
	hdr = append(hdr, '\r', '\n')
	parts := [][]byte{hdr, s.buf, crlf}
	n := 0
	if len(s.pending) == 0 {
		var werr error
		err = s.raw.Write(func(fd uintptr) bool {
			for {
				n, werr = unix.Writev(int(fd), parts)
				if werr != unix.EINTR {
					return true // never wait for the socket here
				}
			}
		})
		if err == nil && werr != nil && werr != unix.EAGAIN {
			err = werr
		}
		n = max(n, 0)
	}
	if err == nil {
		for _, p := range parts {
			if n >= len(p) {
				n -= len(p)
				continue
			}
			s.pending = append(s.pending, p[n:]...)
			n = 0
		}
	}
	if cap(s.buf) > 1<<20 {
		s.buf = nil // a burst's buffer is not kept
	} else {
		s.buf = s.buf[:0]
	}
	return err == nil && len(s.pending) == 0, err
}

// writePending writes what the socket did not take of the flusher's last
// write, under the write timeout (the caller holds mu).
func (s *stream) writePending() error {
	if len(s.pending) == 0 {
		return nil
	}
	if err := s.renewDeadline(); err != nil {
		return err
	}
	_, err := s.conn.Write(s.pending)
	if cap(s.pending) > 1<<20 {
		s.pending = nil
	} else {
		s.pending = s.pending[:0]
	}
	return err
}

// hooked is what a message sent through the OnRealtimeMessageSend hooks
// writes to once the connection is taken over: the stream, framed as a
// chunk when flushed, with the deadline the hooks set.
type hooked struct {
	s      *stream
	header http.Header
	buf    []byte
}

func (h *hooked) Header() http.Header {
	if h.header == nil {
		h.header = http.Header{}
	}
	return h.header
}

func (h *hooked) WriteHeader(int) {}

func (h *hooked) Write(p []byte) (int, error) {
	h.buf = append(h.buf, p...)
	return len(p), nil
}

// FlushError writes what the hooks wrote as one chunk, after whatever the
// flusher left pending.
func (h *hooked) FlushError() error {
	s := h.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writePending(); err != nil {
		return err
	}
	s.buf, h.buf = append(s.buf, h.buf...), h.buf[:0]
	return s.flush()
}

func (h *hooked) Flush() { _ = h.FlushError() }

func (h *hooked) SetWriteDeadline(t time.Time) error {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	h.s.deadline = t
	return h.s.conn.SetWriteDeadline(t)
}
