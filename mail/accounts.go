package mail

import (
	"net/url"
	"strings"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/throttle"
)

// appLink is a link to path on the application URL of the settings
// (meta.appURL) with the token as its query.
func appLink(app core.App, path, token string) string {
	return strings.TrimRight(app.Settings().Meta.AppURL, "/") + path + "?token=" + url.QueryEscape(token)
}

// The account mails: the verification link, the password reset link and
// the email change link. Each is queued in the outbox through app: given
// the transaction of the write it belongs to (a sign-up, a profile
// change), it commits or rolls back with that write. The other two answer
// a request that writes nothing (forgotten password, a new verification
// link) and are queued on their own.

// QueueVerification queues a verification link to the account's email,
// within the mail budgets of package throttle (a refused mail is logged
// there and not queued: the public routes answer the same either way). kind
// is throttle.MailSignUp for the sign-up's own mail, so that asking for
// another one at once still works, or throttle.MailVerify.
func QueueVerification(app core.App, r *core.Record, kind string) error {
	if throttle.TakeMail(app, kind, r, r.Email()) != nil {
		return nil
	}
	token, err := r.NewVerificationToken()
	if err != nil {
		return err
	}
	return queueAccountMail(app, r.Email(), "verify", map[string]any{
		"Name": r.GetString("userName"),
		"Link": appLink(app, "/verifyAccount", token),
	})
}

// QueuePasswordReset queues a password reset link to the account's email,
// within the mail budgets of package throttle.
func QueuePasswordReset(app core.App, r *core.Record) error {
	if throttle.TakeMail(app, throttle.MailReset, r, r.Email()) != nil {
		return nil
	}
	token, err := r.NewPasswordResetToken()
	if err != nil {
		return err
	}
	return queueAccountMail(app, r.Email(), "reset_password", map[string]any{
		"Name": r.GetString("userName"),
		"Link": appLink(app, "/resetPassword", token),
	})
}

// QueueEmailChange queues the link confirming newEmail to newEmail itself;
// the caller has taken the mail's budget (throttle.TakeMail) already, so
// that it can answer 429 before saving anything.
func QueueEmailChange(app core.App, r *core.Record, newEmail string) error {
	token, err := r.NewEmailChangeToken(newEmail)
	if err != nil {
		return err
	}
	return queueAccountMail(app, newEmail, "confirm_email_change", map[string]any{
		"Name":     r.GetString("userName"),
		"NewEmail": newEmail,
		"Link":     appLink(app, "/confirmEmailChange", token),
	})
}

// queueAccountMail renders a mail and queues it in the outbox.
func queueAccountMail(app core.App, to, name string, values map[string]any) error {
	msg, err := Build(app, to, name, values)
	if err != nil {
		return err
	}
	_, err = Enqueue(app, msg)
	return err
}
