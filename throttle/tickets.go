package throttle

import "github.com/pocketbase/pocketbase/core"

// TakeTicket counts one new ticket of customer against its budget, shared
// by /sendTicket and the record and batch APIs, and answers 429 naming the
// limit beyond it. Like PocketBase's rate limiter, whose budget it extends,
// it is off while the operator has turned rate limiting off or for the
// rate limiter's excluded IPs (load tests); the password and mail
// throttles are not.
func TakeTicket(e *core.RequestEvent, customer *core.Record) error {
	if !e.App.Settings().RateLimits.Enabled || excluded(e.App, e.RealIP()) {
		return nil
	}
	s := stateOf(e.App)
	s.mu.Lock()
	l := s.limits
	s.mu.Unlock()
	c := charge{table: "tickets:customer", key: customer.Id, limit: l.TicketsPerCustomer, what: "one customer"}
	if r := s.take(c); r != nil {
		return tooMany(e, "Too many new tickets", r)
	}
	return nil
}
