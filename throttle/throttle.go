// Package throttle holds the portal's own throttles, the ones PocketBase's
// per-IP rate limiter cannot express because they count per account or per
// destination address across every path: password checks, account mails
// and ticket creation. Counters are in memory, per app, in fixed windows;
// a restart resets them (like PocketBase's limiter). docs/throttling.md
// lists every throttle with its default and reason.
package throttle

import (
	"fmt"
	"math"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"
)

// Limit is at most Max events in each Window.
type Limit struct {
	Max    int
	Window time.Duration
}

// String says the limit in words ("20 in 1 minute").
func (l Limit) String() string {
	return fmt.Sprintf("%d in %s", l.Max, words(l.Window))
}

func words(d time.Duration) string {
	switch {
	case d%time.Hour == 0 && d >= time.Hour:
		return plural(int(d/time.Hour), "hour")
	case d%time.Minute == 0 && d >= time.Minute:
		return plural(int(d/time.Minute), "minute")
	}
	return plural(int(math.Ceil(d.Seconds())), "second")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// Limits are every throttle of this package.
type Limits struct {
	// Failed password checks on one account (or one unknown identity),
	// over every path together.
	PasswordPerAccount Limit
	// Failed password checks from one client address, over every path and
	// account together.
	PasswordPerAddress Limit
	// Account mails of one kind to one address.
	MailPerKindAndAddress Limit
	// Account mails to one address, all kinds together.
	MailPerAddress Limit
	// Account mails caused for one account, all kinds and addresses.
	MailPerAccount Limit
	// Tickets one customer creates, /sendTicket and record API together.
	TicketsPerCustomer Limit
}

// Defaults are the production limits; docs/throttling.md gives the reasons.
var Defaults = Limits{
	PasswordPerAccount:    Limit{20, time.Minute},
	PasswordPerAddress:    Limit{20, time.Minute},
	MailPerKindAndAddress: Limit{1, time.Minute},
	MailPerAddress:        Limit{3, 10 * time.Minute},
	MailPerAccount:        Limit{5, 10 * time.Minute},
	TicketsPerCustomer:    Limit{20, time.Minute},
}

// MaxKeys bounds each table of counters, so that no client can grow it
// without end. A full table refuses what it cannot count (429): it fails
// closed, and only under a flood of distinct keys within one window.
const MaxKeys = 100_000

const storeKey = "ticketportal.throttle"

// state is one app's counters.
type state struct {
	mu     sync.Mutex
	limits Limits
	tables map[string]map[string]*window
	now    func() time.Time
}

type window struct {
	start time.Time
	n     int
}

func stateOf(app core.App) *state {
	return app.Store().GetOrSet(storeKey, func() any {
		return &state{limits: Defaults, tables: map[string]map[string]*window{}, now: time.Now}
	}).(*state)
}

// SetLimits changes app's limits (tests use small windows); counters are
// kept.
func SetLimits(app core.App, l Limits) {
	s := stateOf(app)
	s.mu.Lock()
	s.limits = l
	s.mu.Unlock()
}

// LimitsOf returns app's limits.
func LimitsOf(app core.App) Limits {
	s := stateOf(app)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits
}

// charge is one counter to take from: table, key and its limit.
type charge struct {
	table, key string
	limit      Limit
	what       string // for the message: "this account", "your address", …
}

// refusal says which limit refused and when it frees up.
type refusal struct {
	charge
	retry time.Duration
}

// take counts one event on every charge, all or none: when one is at its
// limit (or its table is full) nothing is counted and the refusing charge
// is returned. Taking before acting keeps concurrent requests within the
// limit.
func (s *state) take(charges ...charge) *refusal {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, c := range charges {
		if c.limit.Max <= 0 {
			continue
		}
		t := s.table(c.table)
		w := t[c.key]
		if w != nil && now.Sub(w.start) >= c.limit.Window {
			delete(t, c.key)
			w = nil
		}
		if w != nil && w.n >= c.limit.Max {
			return &refusal{c, c.limit.Window - now.Sub(w.start)}
		}
		if w == nil && len(t) >= MaxKeys && !prune(t, now, c.limit.Window) {
			return &refusal{c, c.limit.Window}
		}
	}
	for _, c := range charges {
		if c.limit.Max <= 0 {
			continue
		}
		t := s.table(c.table)
		if w := t[c.key]; w != nil {
			w.n++
		} else {
			t[c.key] = &window{start: now, n: 1}
		}
	}
	return nil
}

// give returns one event to every charge (a password check that passed).
func (s *state) give(charges ...charge) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, c := range charges {
		if w := s.table(c.table)[c.key]; w != nil && now.Sub(w.start) < c.limit.Window && w.n > 0 {
			w.n--
		}
	}
}

func (s *state) table(name string) map[string]*window {
	t := s.tables[name]
	if t == nil {
		t = map[string]*window{}
		s.tables[name] = t
	}
	return t
}

// prune drops the windows that are over and reports whether room was made.
func prune(t map[string]*window, now time.Time, window time.Duration) bool {
	for k, w := range t {
		if now.Sub(w.start) >= window {
			delete(t, k)
		}
	}
	return len(t) < MaxKeys
}

// tooMany is the 429 answer of a refusal, naming the limit, with
// Retry-After.
func tooMany(e *core.RequestEvent, message string, r *refusal) error {
	secs := int(math.Ceil(r.retry.Seconds()))
	if secs < 1 {
		secs = 1
	}
	if e != nil && e.Response != nil {
		e.Response.Header().Set("Retry-After", fmt.Sprint(secs))
	}
	wait := plural(secs, "second")
	if secs > 90 {
		wait = plural((secs+59)/60, "minute")
	}
	return router.NewTooManyRequestsError(fmt.Sprintf("%s: at most %s for %s. Try again in %s.",
		message, r.limit, r.what, wait), nil)
}

// excluded reports whether ip is in the rate limiter's excluded IPs or
// subnets (dashboard → Settings → Rate limits), which the per-address
// counters honour too.
func excluded(app core.App, ip string) bool {
	parsed := net.ParseIP(ip)
	for _, item := range app.Settings().RateLimits.ExcludedIPs {
		item = strings.TrimSpace(item)
		if item == ip {
			return true
		}
		if _, n, err := net.ParseCIDR(item); err == nil && parsed != nil && n.Contains(parsed) {
			return true
		}
	}
	return false
}
