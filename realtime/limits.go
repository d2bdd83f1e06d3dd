package realtime

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/subscriptions"
)

// Bounds of the realtime API, so that no client can exhaust the server
// (docs/realtime.md gives the reasons for each default). Each can be set
// with its environment variable at start.
type Limits struct {
	SubscriptionsPerClient int           // topics in one subscription request (PORTAL_REALTIME_MAX_SUBSCRIPTIONS)
	SubscriptionBytes      int           // bytes of all topics of one request, options included (PORTAL_REALTIME_MAX_SUBSCRIPTION_BYTES)
	ConnectionsPerAccount  int           // open connections authenticated as one account (PORTAL_REALTIME_MAX_CONNECTIONS_PER_ACCOUNT)
	GuestConnectionsPerIP  int           // open unauthenticated connections from one address (PORTAL_REALTIME_MAX_GUEST_CONNECTIONS_PER_IP)
	QueuedMessages         int           // messages waiting for one client (PORTAL_REALTIME_MAX_QUEUED_MESSAGES)
	QueuedBytes            int           // bytes of the messages waiting for one client (PORTAL_REALTIME_MAX_QUEUED_BYTES)
	WriteTimeout           time.Duration // longest one message may take to be written (PORTAL_REALTIME_WRITE_TIMEOUT, a Go duration)
	WritesPerSecond        int           // writes to all connections a second before each connection's writes are spaced (PORTAL_REALTIME_WRITES_PER_SECOND; see pacer)
}

// DefaultLimits are the bounds used unless the environment sets
// others.
var DefaultLimits = Limits{
	SubscriptionsPerClient: 50,
	SubscriptionBytes:      8 << 10,
	ConnectionsPerAccount:  10,
	GuestConnectionsPerIP:  100,
	QueuedMessages:         500,
	QueuedBytes:            4 << 20,
	WriteTimeout:           10 * time.Second,
	WritesPerSecond:        20000,
}

// limitsFromEnv is DefaultLimits with the PORTAL_REALTIME_*
// variables that are set applied; a malformed or non-positive value is an
// error.
func limitsFromEnv() (Limits, error) {
	l := DefaultLimits
	for name, dst := range map[string]*int{
		"PORTAL_REALTIME_MAX_SUBSCRIPTIONS":            &l.SubscriptionsPerClient,
		"PORTAL_REALTIME_MAX_SUBSCRIPTION_BYTES":       &l.SubscriptionBytes,
		"PORTAL_REALTIME_MAX_CONNECTIONS_PER_ACCOUNT":  &l.ConnectionsPerAccount,
		"PORTAL_REALTIME_MAX_GUEST_CONNECTIONS_PER_IP": &l.GuestConnectionsPerIP,
		"PORTAL_REALTIME_MAX_QUEUED_MESSAGES":          &l.QueuedMessages,
		"PORTAL_REALTIME_MAX_QUEUED_BYTES":             &l.QueuedBytes,
		"PORTAL_REALTIME_WRITES_PER_SECOND":            &l.WritesPerSecond,
	} {
		if v, ok := env(name); ok {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return l, fmt.Errorf("%s must be a positive number, not %q", name, v)
			}
			*dst = n
		}
	}
	if v, ok := env("PORTAL_REALTIME_WRITE_TIMEOUT"); ok {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return l, fmt.Errorf("PORTAL_REALTIME_WRITE_TIMEOUT must be a positive duration such as 10s, not %q", v)
		}
		l.WriteTimeout = d
	}
	return l, nil
}

// Counts are counters of the realtime bounds since the start.
type Counts struct {
	CutSlow          int64 // clients cut off because a write took longer than the write timeout
	CutQueueFull     int64 // clients cut off because their queue of waiting messages was full
	CutRevoked       int64 // connections closed because their agent was deleted or changed role
	RefusedSubscribe int64 // subscription requests refused for too many or too long topics
	RefusedConnect   int64 // connections or authentications refused for too many connections
	Coalesced        int64 // waiting updates replaced by a newer update of the same record
	Writes           int64 // writes (each one flush) of messages to connections
	MessagesWritten  int64 // messages in those writes
	HandedBack       int64 // writes the socket did not take whole at once, finished by the connection's goroutine
}

var counts struct {
	cutSlow, cutQueueFull, cutRevoked, refusedSubscribe, refusedConnect, coalesced atomic.Int64
	writes, messagesWritten, handedBack                                            atomic.Int64
}

// Stats returns the realtime counters (for /metrics and the logs).
func Stats() Counts {
	c := &counts
	return Counts{
		CutSlow:          c.cutSlow.Load(),
		CutQueueFull:     c.cutQueueFull.Load(),
		CutRevoked:       c.cutRevoked.Load(),
		RefusedSubscribe: c.refusedSubscribe.Load(),
		RefusedConnect:   c.refusedConnect.Load(),
		Coalesced:        c.coalesced.Load(),
		Writes:           c.writes.Load(),
		MessagesWritten:  c.messagesWritten.Load(),
		HandedBack:       c.handedBack.Load(),
	}
}

// bindLimits enforces rt.limits on connections and subscriptions.
func (rt *engine) bindLimits() {
	app, limits := rt.app, rt.limits

	// A guest connection is refused when its address already holds the
	// maximum of unauthenticated ones (every connection starts as a guest;
	// the pages authenticate it at once with their first subscription).
	app.OnRealtimeConnectRequest().BindFunc(func(e *core.RealtimeConnectRequestEvent) error {
		ip := e.RealIP()
		if !rt.conns.connect(e.Client, ip, limits.GuestConnectionsPerIP) {
			counts.refusedConnect.Add(1)
			return e.TooManyRequestsError(fmt.Sprintf("Too many realtime connections from this address: at most %d may wait unauthenticated.", limits.GuestConnectionsPerIP), nil)
		}
		defer rt.conns.disconnect(e.Client)
		return e.Next() // returns when the connection ends
	})

	// Subscriptions: at most SubscriptionsPerClient topics of at most
	// SubscriptionBytes in all; an account may hold at most
	// ConnectionsPerAccount connections; an account being deleted or
	// changing role may not subscribe.
	app.OnRealtimeSubscribeRequest().BindFunc(func(e *core.RealtimeSubscribeRequestEvent) error {
		if n := len(e.Subscriptions); n > limits.SubscriptionsPerClient {
			counts.refusedSubscribe.Add(1)
			return e.BadRequestError(fmt.Sprintf("Too many subscriptions: at most %d topics per connection.", limits.SubscriptionsPerClient), nil)
		}
		size := 0
		for _, sub := range e.Subscriptions {
			size += len(sub)
		}
		if size > limits.SubscriptionBytes {
			counts.refusedSubscribe.Add(1)
			return e.BadRequestError(fmt.Sprintf("Subscriptions too long: at most %d bytes of topics and options per request.", limits.SubscriptionBytes), nil)
		}
		if e.Auth == nil {
			return e.Next()
		}
		if rt.revoked.has(e.Auth.Id) {
			return e.ForbiddenError("This account can no longer listen.", nil)
		}
		if !rt.conns.authenticate(e.Client, e.Auth, limits.ConnectionsPerAccount) {
			counts.refusedConnect.Add(1)
			return e.TooManyRequestsError(fmt.Sprintf("Too many realtime connections for this account: at most %d.", limits.ConnectionsPerAccount), nil)
		}
		return e.Next()
	})

	// Every message is written within WriteTimeout or the connection is
	// cut (PocketBase removes the server's write deadline on realtime
	// connections, so a client that stops reading would hold its sender
	// forever). A cut client reconnects and reloads.
	app.OnRealtimeMessageSend().BindFunc(func(e *core.RealtimeMessageEvent) error {
		rc := http.NewResponseController(e.Response)
		if err := rc.SetWriteDeadline(time.Now().Add(limits.WriteTimeout)); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		err := e.Next()
		if err != nil && isTimeout(err) {
			n := counts.cutSlow.Add(1)
			app.SubscriptionsBroker().Unregister(e.Client.Id())
			app.Logger().Warn("realtime client cut off: it did not read for the write timeout",
				"client", e.Client.Id(), "timeout", limits.WriteTimeout.String(), "cutSlowTotal", n)
		}
		return err
	})
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// cut closes client c's connection (its stream ends; the pages reconnect
// and reload) and drops what it was still to receive.
func (rt *engine) cut(c subscriptions.Client) {
	rt.app.SubscriptionsBroker().Unregister(c.Id())
	rt.out.drop(c)
}

// connCounts counts the open connections made through /api/realtime:
// unauthenticated ones per address and authenticated ones per account, so
// that checking a cap does not walk every client.
type connCounts struct {
	mu       sync.Mutex
	guests   map[string]int // address -> connections not yet authenticated
	accounts map[string]int // collection id/record id -> connections
}

// The client store keys of what a connection is counted as.
const (
	countedGuestKey   = "portalGuestIP"
	countedAccountKey = "portalAccount"
)

// connect counts a new connection from ip as a guest, unless ip has max.
func (cc *connCounts) connect(c subscriptions.Client, ip string, max int) bool {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.guests == nil {
		cc.guests, cc.accounts = map[string]int{}, map[string]int{}
	}
	if cc.guests[ip] >= max {
		return false
	}
	cc.guests[ip]++
	c.Set(countedGuestKey, ip)
	return true
}

// authenticate counts connection c as auth's, unless auth has max already
// (a connection already counted as auth's passes). It stores the auth at
// once, so that two requests cannot both take the last place.
func (cc *connCounts) authenticate(c subscriptions.Client, auth *core.Record, max int) bool {
	key := auth.Collection().Id + "/" + auth.Id
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.accounts == nil {
		cc.guests, cc.accounts = map[string]int{}, map[string]int{}
	}
	if prev, _ := c.Get(countedAccountKey).(string); prev == key {
		return true
	}
	if cc.accounts[key] >= max {
		return false
	}
	cc.forget(c)
	cc.accounts[key]++
	c.Set(countedAccountKey, key)
	c.Set(apis.RealtimeClientAuthKey, auth)
	return true
}

// disconnect forgets connection c.
func (cc *connCounts) disconnect(c subscriptions.Client) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.forget(c)
}

func (cc *connCounts) forget(c subscriptions.Client) {
	if ip, ok := c.Get(countedGuestKey).(string); ok {
		if cc.guests[ip]--; cc.guests[ip] <= 0 {
			delete(cc.guests, ip)
		}
		c.Unset(countedGuestKey)
	}
	if key, ok := c.Get(countedAccountKey).(string); ok {
		if cc.accounts[key]--; cc.accounts[key] <= 0 {
			delete(cc.accounts, key)
		}
		c.Unset(countedAccountKey)
	}
}

// env returns the trimmed value of a variable that is set and not blank.
func env(name string) (string, bool) {
	v := strings.TrimSpace(os.Getenv(name))
	return v, v != ""
}
