package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// ticketCreateRule holds a ticket created through the record API to the
// per-IP budget of POST /sendTicket (20 a minute) instead of PocketBase's
// 20 per 5 s for any create. The per-customer budget shared by both paths
// is package throttle's (docs/throttling.md).
var ticketCreateRule = core.RateLimitRule{Label: "tickets:create", MaxRequests: 20, Duration: 60}

func init() {
	m.Register(func(app core.App) error {
		s := app.Settings()
		for _, r := range s.RateLimits.Rules {
			if r.Label == ticketCreateRule.Label {
				return nil // an operator's own rule wins
			}
		}
		s.RateLimits.Rules = append(s.RateLimits.Rules, ticketCreateRule)
		return app.Save(s)
	}, func(app core.App) error {
		s := app.Settings()
		rules := s.RateLimits.Rules[:0]
		for _, r := range s.RateLimits.Rules {
			if r.Label != ticketCreateRule.Label || r.MaxRequests != ticketCreateRule.MaxRequests || r.Duration != ticketCreateRule.Duration {
				rules = append(rules, r)
			}
		}
		s.RateLimits.Rules = rules
		return app.Save(s)
	})
}
