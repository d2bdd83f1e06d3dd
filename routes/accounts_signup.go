package routes

import (
	"net/http"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"

	"ticketportal/mail"
	"ticketportal/policy"
	"ticketportal/store"
	"ticketportal/throttle"
	"ticketportal/validate"
)

// signUp creates an unverified customer and mails it a verification link.
func signUp(e *core.RequestEvent) error {
	var body struct {
		Email           string `json:"email"`
		UserName        string `json:"userName"`
		Password        string `json:"password"`
		ConfirmPassword string `json:"confirmPassword"`
		UserFirstName   string `json:"userFirstName"`
		UserLastName    string `json:"userLastName"`
		MobileNumber    string `json:"mobileNumber"`
	}
	if err := readJSON(e, &body); err != nil {
		return err
	}
	f := fieldChecks{}
	f.check("email", body.Email, validate.EmailRules)
	f.check("userName", body.UserName, validate.UserNameRules)
	f.check("password", body.Password, validate.PasswordRules)
	f.checkConfirm("confirmPassword", body.Password, body.ConfirmPassword)
	f.check("userFirstName", body.UserFirstName, validate.PersonNameRules)
	f.check("userLastName", body.UserLastName, validate.PersonNameRules)
	f.check("mobileNumber", body.MobileNumber, validate.MobileRules)
	if err := f.err(); err != nil {
		return e.BadRequestError("Some fields are not valid.", err)
	}

	users, err := e.App.FindCachedCollectionByNameOrId(policy.Users)
	if err != nil {
		return e.InternalServerError("", err)
	}
	user := core.NewRecord(users)
	user.SetEmail(body.Email)
	store.SetPassword(user, body.Password)
	user.SetVerified(false)
	user.Set("userName", body.UserName)
	user.Set("userFirstName", body.UserFirstName)
	user.Set("userLastName", body.UserLastName)
	user.Set("mobileNumber", body.MobileNumber)
	// the account and its verification mail commit together
	if err := e.App.RunInTransaction(func(tx core.App) error {
		if err := tx.Save(user); err != nil {
			return err
		}
		return mail.QueueVerification(tx, user, throttle.MailSignUp)
	}); err != nil {
		return accountSaveError(e, err)
	}
	return e.JSON(http.StatusCreated, map[string]any{
		"message": "Account created. We sent a link to " + user.Email() + ": open it to verify your email, then log in.",
		"user":    accountJSON(user),
	})
}

// verifyAccount confirms the email of the account named by the mailed
// token and answers with a page.
func verifyAccount(e *core.RequestEvent) error {
	token := e.Request.URL.Query().Get("token")
	r, err := e.App.FindAuthRecordByToken(token, core.TokenTypeVerification)
	if err != nil || !isAccount(r) || r.Email() != tokenEmail(token) {
		return renderAccountPage(e, http.StatusBadRequest, "message", accountPage{
			Title:    "This link does not work",
			Message:  "The verification link is invalid or has expired. Log in to see whether your account is already verified, or ask for a new link.",
			LinkURL:  "/",
			LinkText: "Back to the portal",
		})
	}
	if !r.Verified() {
		r.SetVerified(true)
		if err := e.App.Save(r); err != nil {
			return e.InternalServerError("", err)
		}
	}
	return renderAccountPage(e, http.StatusOK, "message", accountPage{
		Title:    "Your account is verified",
		Message:  "Thank you: your email " + r.Email() + " is verified. You can log in now.",
		LinkURL:  "/",
		LinkText: "Log in",
	})
}

// resendVerification mails a new verification link to an unverified
// customer; the answer is the same whether or not there is one.
func resendVerification(e *core.RequestEvent) error {
	email, err := readEmailBody(e)
	if err != nil {
		return err
	}
	if r, err := findAccount(e.App, policy.Users, core.FieldNameEmail, email); err == nil && !r.Verified() {
		if err := mail.QueueVerification(e.App, r, throttle.MailVerify); err != nil {
			return e.InternalServerError("", err)
		}
	}
	return e.JSON(http.StatusOK, map[string]any{
		"message": "If an unverified account uses this email, we sent it a new verification link.",
	})
}

// tokenEmail is the email claim of a token (already verified by the caller).
func tokenEmail(token string) string {
	claims, _ := security.ParseUnverifiedJWT(token)
	email, _ := claims[core.TokenClaimEmail].(string)
	return email
}
