package routes

import (
	"errors"
	"net/http"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"

	"ticketportal/mail"
	"ticketportal/policy"
	"ticketportal/store"
	"ticketportal/throttle"
	"ticketportal/validate"
)

// profileChange is what /editProfile may change; admins have no names or
// mobile number, so for them those are unknown fields.
type profileChange struct {
	UserName      *string `json:"userName"`
	Email         *string `json:"email"`
	UserFirstName *string `json:"userFirstName"`
	UserLastName  *string `json:"userLastName"`
	MobileNumber  *string `json:"mobileNumber"`
}

// editProfile changes the caller's own profile. A new email only takes
// effect once the new address confirms it through a mailed link.
func editProfile(e *core.RequestEvent) error {
	var in profileChange
	if policy.RoleOf(e.Auth) == policy.RoleUser {
		if err := readJSON(e, &in); err != nil {
			return err
		}
	} else {
		var staff struct {
			UserName *string `json:"userName"`
			Email    *string `json:"email"`
		}
		if err := readJSON(e, &staff); err != nil {
			return err
		}
		in.UserName, in.Email = staff.UserName, staff.Email
	}
	f := fieldChecks{}
	f.checkOptional("userName", in.UserName, validate.UserNameRules)
	f.checkOptional("email", in.Email, validate.EmailRules)
	f.checkOptional("userFirstName", in.UserFirstName, validate.PersonNameRules)
	f.checkOptional("userLastName", in.UserLastName, validate.PersonNameRules)
	f.checkOptional("mobileNumber", in.MobileNumber, validate.MobileRules)
	if err := f.err(); err != nil {
		return e.BadRequestError("Some fields are not valid.", err)
	}
	if in == (profileChange{}) {
		return e.BadRequestError("Send at least one of the fields to change.", nil)
	}

	account, err := e.App.FindRecordById(e.Auth.Collection(), e.Auth.Id)
	if err != nil {
		return e.UnauthorizedError("Sign in to continue.", nil)
	}
	for name, value := range map[string]*string{
		"userName": in.UserName, "userFirstName": in.UserFirstName,
		"userLastName": in.UserLastName, "mobileNumber": in.MobileNumber,
	} {
		if value != nil {
			account.Set(name, *value)
		}
	}

	newEmail := ""
	if in.Email != nil && !strings.EqualFold(*in.Email, account.Email()) {
		newEmail = *in.Email
		// check the whole change, the new email included, before saving any of it
		candidate := account.Clone()
		candidate.SetEmail(newEmail)
		if err := e.App.Validate(candidate); err != nil {
			return accountSaveError(e, err)
		}
	}
	if newEmail != "" {
		// the mail's budget is taken before anything is saved, so that a
		// refused mail (429) changes nothing
		var refused *throttle.MailRefused
		if err := throttle.TakeMail(e.App, throttle.MailEmailChange, account, newEmail); errors.As(err, &refused) {
			return refused.Answer(e)
		}
	}
	// the profile and the email change's mail commit together
	if err := e.App.RunInTransaction(func(tx core.App) error {
		if err := tx.Save(account); err != nil {
			return err
		}
		if newEmail == "" {
			return nil
		}
		return mail.QueueEmailChange(tx, account, newEmail)
	}); err != nil {
		return accountSaveError(e, err)
	}

	message := "Profile updated."
	if newEmail != "" {
		message = "Profile updated. We sent a link to " + newEmail + ": your email changes once you open it; until then it stays " + account.Email() + "."
	}
	return e.JSON(http.StatusOK, map[string]any{
		"message": message,
		"user":    accountJSON(account),
	})
}

// changePassword changes the caller's password after checking the old one.
// Every earlier token of the account stops working (PocketBase renews the
// token key when the password changes); the answer carries a fresh token.
func changePassword(e *core.RequestEvent) error {
	var body struct {
		OldPassword     string `json:"oldPassword"`
		Password        string `json:"password"`
		ConfirmPassword string `json:"confirmPassword"`
	}
	if err := readJSON(e, &body); err != nil {
		return err
	}
	f := fieldChecks{}
	f.check("oldPassword", body.OldPassword, []validation.Rule{validation.Required})
	f.check("password", body.Password, validate.PasswordRules)
	f.checkConfirm("confirmPassword", body.Password, body.ConfirmPassword)
	if err := f.err(); err != nil {
		return e.BadRequestError("Some fields are not valid.", err)
	}

	account, err := e.App.FindRecordById(e.Auth.Collection(), e.Auth.Id)
	if err != nil {
		return e.UnauthorizedError("Sign in to continue.", nil)
	}
	check, err := throttle.StartPasswordCheck(e, account, "")
	if err != nil {
		return err
	}
	if !validate.PasswordMayMatch(body.OldPassword) || !account.ValidatePassword(body.OldPassword) {
		return fieldError(e, "The old password is wrong.", "oldPassword", "validation_invalid_password", "Wrong password.")
	}
	check.Passed()
	store.SetPassword(account, body.Password)
	if err := e.App.Save(account); err != nil {
		return accountSaveError(e, err)
	}
	token, err := account.NewAuthToken()
	if err != nil {
		return e.InternalServerError("", err)
	}
	return e.JSON(http.StatusOK, map[string]any{
		"message": "Password changed. Other sessions are logged out; use this new token.",
		"token":   token,
	})
}

// confirmEmailChangePage is the page behind the mailed email-change link:
// mail scanners fetch links, so the change itself waits for the form's
// POST, which also asks for the password (as PocketBase's own
// confirm-email-change does).
func confirmEmailChangePage(e *core.RequestEvent) error {
	token := e.Request.URL.Query().Get("token")
	_, newEmail, err := parseEmailChangeToken(e.App, token)
	if err != nil {
		return renderAccountPage(e, http.StatusBadRequest, "message", accountPage{
			Title:    "This link does not work",
			Message:  "The link to confirm your new email is invalid or has expired (or was already used). Change your email again in your profile to get a new one.",
			LinkURL:  "/",
			LinkText: "Back to the portal",
		})
	}
	return renderAccountPage(e, http.StatusOK, "confirm_email_change", accountPage{
		Title:    "Confirm your new email",
		Message:  newEmail,
		Token:    token,
		LinkURL:  "/",
		LinkText: "Log in",
	})
}

// confirmEmailChange applies a confirmed email change. The account's
// earlier tokens stop working (a new email renews the token key), so the
// link works once.
func confirmEmailChange(e *core.RequestEvent) error {
	var body struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if err := readJSON(e, &body); err != nil {
		return err
	}
	f := fieldChecks{}
	f.check("token", body.Token, []validation.Rule{validation.Required})
	f.check("password", body.Password, []validation.Rule{validation.Required})
	if err := f.err(); err != nil {
		return e.BadRequestError("Some fields are not valid.", err)
	}

	var newEmail string
	// in one transaction, so that two uses of one link cannot both pass
	err := e.App.RunInTransaction(func(tx core.App) error {
		account, email, err := parseEmailChangeToken(tx, body.Token)
		if err != nil {
			return err
		}
		check, err := throttle.StartPasswordCheck(e, account, "")
		if err != nil {
			return err
		}
		if !validate.PasswordMayMatch(body.Password) || !account.ValidatePassword(body.Password) {
			return fieldError(e, "The password is wrong.", "password", "validation_invalid_password", "Wrong password.")
		}
		check.Passed()
		account.SetEmail(email)
		account.SetVerified(true) // the new address just proved it is theirs
		if err := tx.Save(account); err != nil {
			return accountSaveError(e, err)
		}
		newEmail = email
		return nil
	})
	if errors.Is(err, errBadLink) {
		return fieldError(e, "The link is invalid or has expired; change your email again to get a new one.", "token", "validation_invalid_token", "Invalid or expired token.")
	}
	if err != nil {
		return err
	}
	return e.JSON(http.StatusOK, map[string]any{
		"message": "Your email is now " + newEmail + ". Log in again with it.",
	})
}

// errBadLink is a mailed token that is invalid, expired or already used.
var errBadLink = errors.New("invalid or expired link")

// parseEmailChangeToken returns the account and the new email of an email
// change token.
func parseEmailChangeToken(app core.App, token string) (*core.Record, string, error) {
	claims, _ := security.ParseUnverifiedJWT(token)
	newEmail, _ := claims[core.TokenClaimNewEmail].(string)
	if newEmail == "" {
		return nil, "", errBadLink
	}
	account, err := app.FindAuthRecordByToken(token, core.TokenTypeEmailChange)
	if err != nil || !isAccount(account) {
		return nil, "", errBadLink
	}
	return account, newEmail, nil
}
