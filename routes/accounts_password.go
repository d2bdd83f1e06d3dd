package routes

import (
	"errors"
	"net/http"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/mail"
	"ticketportal/store"
	"ticketportal/validate"
)

// forgetPassword mails a password reset link when an account uses the
// email; the answer is the same either way.
func forgetPassword(e *core.RequestEvent) error {
	email, err := readEmailBody(e)
	if err != nil {
		return err
	}
	if r, err := findAccountByEmail(e.App, email); err == nil {
		if err := mail.QueuePasswordReset(e.App, r); err != nil {
			return e.InternalServerError("", err)
		}
	}
	return e.JSON(http.StatusOK, map[string]any{
		"message": "If an account uses this email, we sent it a link to reset the password.",
	})
}

// resetPasswordPage is the page behind the mailed reset link: a form that
// posts the new password to POST /resetPassword.
func resetPasswordPage(e *core.RequestEvent) error {
	token := e.Request.URL.Query().Get("token")
	if _, err := findResetAccount(e.App, token); err != nil {
		return renderAccountPage(e, http.StatusBadRequest, "message", accountPage{
			Title:    "This link does not work",
			Message:  "The password reset link is invalid or has expired (or was already used). Ask for a new one on the login page.",
			LinkURL:  "/",
			LinkText: "Back to the portal",
		})
	}
	return renderAccountPage(e, http.StatusOK, "reset_password", accountPage{
		Title:    "Choose a new password",
		Token:    token,
		LinkURL:  "/",
		LinkText: "Log in",
	})
}

// resetPassword sets a new password with a mailed reset token. The token
// works once: the new password renews the account's token key, which also
// ends every earlier session.
func resetPassword(e *core.RequestEvent) error {
	var body struct {
		Token           string `json:"token"`
		Password        string `json:"password"`
		ConfirmPassword string `json:"confirmPassword"`
	}
	if err := readJSON(e, &body); err != nil {
		return err
	}
	f := fieldChecks{}
	f.check("token", body.Token, []validation.Rule{validation.Required})
	f.check("password", body.Password, validate.PasswordRules)
	f.checkConfirm("confirmPassword", body.Password, body.ConfirmPassword)
	if err := f.err(); err != nil {
		return e.BadRequestError("Some fields are not valid.", err)
	}

	// in one transaction, so that two uses of one link cannot both pass
	err := e.App.RunInTransaction(func(tx core.App) error {
		account, err := findResetAccount(tx, body.Token)
		if err != nil {
			return err
		}
		store.SetPassword(account, body.Password)
		if !account.Verified() && account.Email() == tokenEmail(body.Token) {
			account.SetVerified(true) // the mailbox just proved it is theirs
		}
		if err := tx.Save(account); err != nil {
			return accountSaveError(e, err)
		}
		return nil
	})
	if errors.Is(err, errBadLink) {
		return fieldError(e, "The reset link is invalid or has expired; ask for a new one.", "token", "validation_invalid_token", "Invalid or expired token.")
	}
	if err != nil {
		return err
	}
	return e.JSON(http.StatusOK, map[string]any{
		"message": "Your password is reset. Log in with the new one.",
	})
}

// findResetAccount returns the account of a valid password reset token.
func findResetAccount(app core.App, token string) (*core.Record, error) {
	account, err := app.FindAuthRecordByToken(token, core.TokenTypePasswordReset)
	if err != nil || !isAccount(account) {
		return nil, errBadLink
	}
	return account, nil
}
