package throttle

import (
	"strings"

	"github.com/pocketbase/pocketbase/core"
)

// Kinds of account mail; the portal's routes and PocketBase's own
// endpoints share each kind's budget.
const (
	MailSignUp      = "signUp" // the verification mail of a new account
	MailVerify      = "verify"
	MailReset       = "reset"
	MailEmailChange = "emailChange"
	MailOTP         = "otp"
	MailAuthAlert   = "authAlert"
)

// MailRefused says why an account mail was not sent.
type MailRefused struct{ r *refusal }

func (m *MailRefused) Error() string { return "account mail throttled: " + m.r.what }

// Answer is the 429 a signed-in caller gets for a refused mail.
func (m *MailRefused) Answer(e *core.RequestEvent) error {
	return tooMany(e, "Too many mails", m.r)
}

// TakeMail counts one account mail of kind, caused for account and sent to
// address, against every mail budget (kind and address, address, account),
// all or none. It is called where the mail is queued: the portal's account
// mails (sign-up, resend verification, forgot password, email change) and
// PocketBase's own (request-verification, request-password-reset,
// request-email-change, OTP, auth alerts), so every path shares one budget.
// A nil error means: send it.
func TakeMail(app core.App, kind string, account *core.Record, address string) error {
	s := stateOf(app)
	s.mu.Lock()
	l := s.limits
	s.mu.Unlock()
	addr := strings.ToLower(strings.TrimSpace(address))
	charges := []charge{
		{table: "mail:kind", key: kind + ":" + addr, limit: l.MailPerKindAndAddress, what: "one kind of mail to one address"},
		{table: "mail:address", key: addr, limit: l.MailPerAddress, what: "one address"},
	}
	if account != nil {
		charges = append(charges, charge{table: "mail:account", key: account.Collection().Id + ":" + account.Id, limit: l.MailPerAccount, what: "one account"})
	}
	if r := s.take(charges...); r != nil {
		id := ""
		if account != nil {
			id = account.Id
		}
		app.Logger().Warn("account mail throttled", "kind", kind, "account", id, "limit", r.what+": "+r.limit.String())
		return &MailRefused{r}
	}
	return nil
}
