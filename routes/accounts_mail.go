package routes

import (
	"net/url"
	"strings"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/mail"
	"ticketportal/throttle"
)

// appLink is a link to path on the application URL of the settings
// (meta.appURL) with the token as its query.
func appLink(app core.App, path, token string) string {
	return strings.TrimRight(app.Settings().Meta.AppURL, "/") + path + "?token=" + url.QueryEscape(token)
}

// sendVerification mails a verification link to the account's email,
// within the mail budgets of package throttle (a refused mail is logged
// there and not sent: the public routes answer the same either way). kind
// is throttle.MailSignUp for the sign-up's own mail, so that asking for
// another one at once still works, or throttle.MailVerify.
func sendVerification(app core.App, r *core.Record, kind string) {
	if throttle.TakeMail(app, kind, r, r.Email()) != nil {
		return
	}
	token, err := r.NewVerificationToken()
	if err != nil {
		app.Logger().Error("verification token failed", "account", r.Id, "error", err)
		return
	}
	sendAccountMail(app, r.Email(), "verify", map[string]any{
		"Name": r.GetString("userName"),
		"Link": appLink(app, "/verifyAccount", token),
	})
}

// sendPasswordReset mails a password reset link to the account's email,
// within the mail budgets of package throttle.
func sendPasswordReset(app core.App, r *core.Record) {
	if throttle.TakeMail(app, throttle.MailReset, r, r.Email()) != nil {
		return
	}
	token, err := r.NewPasswordResetToken()
	if err != nil {
		app.Logger().Error("password reset token failed", "account", r.Id, "error", err)
		return
	}
	sendAccountMail(app, r.Email(), "reset_password", map[string]any{
		"Name": r.GetString("userName"),
		"Link": appLink(app, "/resetPassword", token),
	})
}

// sendEmailChange mails the link confirming newEmail to newEmail itself;
// the caller has taken the mail's budget (throttle.TakeMail) already, so
// that it can answer 429 before saving anything.
func sendEmailChange(app core.App, r *core.Record, newEmail string) error {
	token, err := r.NewEmailChangeToken(newEmail)
	if err != nil {
		return err
	}
	sendAccountMail(app, newEmail, "confirm_email_change", map[string]any{
		"Name":     r.GetString("userName"),
		"NewEmail": newEmail,
		"Link":     appLink(app, "/confirmEmailChange", token),
	})
	return nil
}

// sendAccountMail renders a mail and hands it to the background delivery.
func sendAccountMail(app core.App, to, name string, values map[string]any) {
	msg, err := mail.Build(app, to, name, values)
	if err != nil {
		app.Logger().Error("building a mail failed", "mail", name, "error", err)
		return
	}
	mail.Deliver(app, msg)
}
