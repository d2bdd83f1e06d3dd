package routes

import (
	"net/url"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/mail"
)

// mailPause is the least time between two mails of one kind that a public
// request (resend verification, forgot password) may cause for one account,
// so that nobody can flood someone's inbox through the portal.
const mailPause = time.Minute

// appLink is a link to path on the application URL of the settings
// (meta.appURL) with the token as its query.
func appLink(app core.App, path, token string) string {
	return strings.TrimRight(app.Settings().Meta.AppURL, "/") + path + "?token=" + url.QueryEscape(token)
}

// sendVerification mails a verification link to the account's email.
func sendVerification(app core.App, r *core.Record) {
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

// sendPasswordReset mails a password reset link to the account's email.
func sendPasswordReset(app core.App, r *core.Record) {
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

// sendEmailChange mails the link confirming newEmail to newEmail itself.
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

// mailPaused reports whether the account got a mail of this kind less than
// mailPause ago through a public request, and otherwise notes one now.
func mailPaused(app core.App, kind string, r *core.Record) bool {
	key := "portal:mail:" + kind + ":" + r.Collection().Id + ":" + r.Id
	now := time.Now()
	paused := false
	app.Store().SetFunc(key, func(old any) any {
		if last, ok := old.(time.Time); ok && now.Sub(last) < mailPause {
			paused = true
			return last
		}
		return now
	})
	return paused
}
