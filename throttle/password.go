package throttle

import (
	"strings"

	"github.com/pocketbase/pocketbase/core"
)

// PasswordCheck is one password check that has taken its place in the
// throttle. Every path that checks a password against an account takes one
// first (/login, every auth-with-password, /changePassword, record-API
// updates with oldPassword, /confirmEmailChange and PocketBase's
// confirm-email-change) and calls Passed when the password was right, so
// that only failures stay counted.
type PasswordCheck struct {
	s       *state
	charges []charge
}

// StartPasswordCheck takes one failed check in advance from the budget of
// the account (or, when no account has that identity, of the identity as
// typed, so that unknown and known accounts answer alike) and of the
// client's address. Beyond either budget it answers 429 naming the limit,
// even before the password is looked at, so the 429 tells nothing about the
// password or, after the same count of tries, about the account.
func StartPasswordCheck(e *core.RequestEvent, account *core.Record, identity string) (*PasswordCheck, error) {
	s := stateOf(e.App)
	s.mu.Lock()
	l := s.limits
	s.mu.Unlock()
	key := "identity:" + strings.ToLower(strings.TrimSpace(identity))
	if account != nil {
		key = "account:" + account.Collection().Id + ":" + account.Id
	}
	charges := []charge{{table: "password:account", key: key, limit: l.PasswordPerAccount, what: "one account"}}
	if ip := e.RealIP(); !excluded(e.App, ip) {
		charges = append(charges, charge{table: "password:address", key: ip, limit: l.PasswordPerAddress, what: "one client address"})
	}
	if r := s.take(charges...); r != nil {
		e.App.Logger().Warn("password checks throttled", "key", r.key, "limit", r.limit.String())
		return nil, tooMany(e, "Too many wrong passwords", r)
	}
	return &PasswordCheck{s: s, charges: charges}, nil
}

// Passed gives back the check taken in advance: the password was right.
func (c *PasswordCheck) Passed() {
	if c != nil {
		c.s.give(c.charges...)
		c.charges = nil
	}
}
