package throttle

import "github.com/pocketbase/pocketbase/core"

// TakeTicket counts one new ticket of customer against its budget, shared
// by /sendTicket and the record and batch APIs, and answers 429 naming the
// limit beyond it.
func TakeTicket(e *core.RequestEvent, customer *core.Record) error {
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
