package hooks

import (
	"errors"
	"net/http"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/router"

	"ticketportal/policy"
	"ticketportal/throttle"
	"ticketportal/validate"
)

// bindThrottles puts PocketBase's own password checks, account mails and
// ticket creation under the portal's throttles (package throttle), which
// the custom routes use too, so that every path shares one budget.
func bindThrottles(app core.App) {
	// auth-with-password of every auth collection: one budget with /login;
	// a password longer than bcrypt's 72 bytes never matches.
	app.OnRecordAuthWithPasswordRequest().BindFunc(func(e *core.RecordAuthWithPasswordRequestEvent) error {
		check, err := throttle.StartPasswordCheck(e.RequestEvent, e.Record, e.Identity)
		if err != nil {
			return err
		}
		if !validate.PasswordMayMatch(e.Password) {
			return e.BadRequestError("Failed to authenticate.", errors.New("invalid login credentials"))
		}
		err = e.Next()
		if !isApiError(err, http.StatusBadRequest, "Failed to authenticate.") {
			check.Passed()
		}
		return err
	})

	// Record-API (and batch) updates of an account that change its
	// password with oldPassword: the old password is checked under the same
	// budget. Superusers need no oldPassword.
	app.OnRecordUpdateRequest().BindFunc(func(e *core.RecordRequestEvent) error {
		if !e.Collection.IsAuth() || e.HasSuperuserAuth() {
			return e.Next()
		}
		info, err := e.RequestInfo()
		if err != nil {
			return e.Next()
		}
		old, _ := info.Body["oldPassword"].(string)
		pw, _ := info.Body["password"].(string)
		confirm, _ := info.Body["passwordConfirm"].(string)
		if old == "" || (pw == "" && confirm == "") {
			return e.Next() // no old password will be checked
		}
		check, err := throttle.StartPasswordCheck(e.RequestEvent, e.Record, "")
		if err != nil {
			return err
		}
		if !validate.PasswordMayMatch(old) {
			return e.BadRequestError("Failed to update record.", validation.Errors{
				"oldPassword": validation.NewError("validation_invalid_old_password", "Missing or invalid old password."),
			})
		}
		err = e.Next()
		if !apiErrorNames(err, "oldPassword") {
			check.Passed()
		}
		return err
	})

	// PocketBase's confirm-email-change checks the password while reading
	// its form, before any hook: a middleware puts it under the budget.
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.BindFunc(throttleConfirmEmailChange)
		return se.Next()
	})

	// PocketBase's own account mails share the portal's mail budgets. The
	// dashboard's test mail (to a record that is not saved) is not counted.
	mailGate := func(kind string) func(e *core.MailerRecordEvent) error {
		return func(e *core.MailerRecordEvent) error {
			if e.Record == nil || e.Record.IsNew() || e.Message == nil {
				return e.Next()
			}
			for _, to := range e.Message.To {
				if err := throttle.TakeMail(e.App, kind, e.Record, to.Address); err != nil {
					return nil // not sent; the endpoint answers as usual
				}
			}
			return e.Next()
		}
	}
	app.OnMailerRecordVerificationSend().BindFunc(mailGate(throttle.MailVerify))
	app.OnMailerRecordPasswordResetSend().BindFunc(mailGate(throttle.MailReset))
	app.OnMailerRecordEmailChangeSend().BindFunc(mailGate(throttle.MailEmailChange))
	app.OnMailerRecordOTPSend().BindFunc(mailGate(throttle.MailOTP))
	app.OnMailerRecordAuthAlertSend().BindFunc(mailGate(throttle.MailAuthAlert))

	// A customer's tickets through the record and batch APIs share the
	// budget of /sendTicket.
	app.OnRecordCreateRequest(policy.Tickets).BindFunc(func(e *core.RecordRequestEvent) error {
		if e.Auth != nil && e.Auth.Collection().Name == policy.Users {
			if err := throttle.TakeTicket(e.RequestEvent, e.Auth); err != nil {
				return err
			}
		}
		return e.Next()
	})
}

// throttleConfirmEmailChange is the password throttle of PocketBase's
// POST /api/collections/{collection}/confirm-email-change.
func throttleConfirmEmailChange(e *core.RequestEvent) error {
	path := e.Request.URL.Path
	if e.Request.Method != http.MethodPost || !strings.HasPrefix(path, "/api/collections/") || !strings.HasSuffix(path, "/confirm-email-change") {
		return e.Next()
	}
	info, err := e.RequestInfo()
	if err != nil {
		return e.Next()
	}
	token, _ := info.Body["token"].(string)
	password, _ := info.Body["password"].(string)
	account, err := e.App.FindAuthRecordByToken(token, core.TokenTypeEmailChange)
	if err != nil || password == "" {
		return e.Next() // no password is checked without a valid token
	}
	check, err := throttle.StartPasswordCheck(e, account, "")
	if err != nil {
		return err
	}
	if !validate.PasswordMayMatch(password) {
		return e.BadRequestError("An error occurred while validating the submitted data.", validation.Errors{
			"password": validation.NewError("validation_invalid_password", "Missing or invalid auth record password."),
		})
	}
	err = e.Next()
	if !apiErrorNames(err, "password") {
		check.Passed()
	}
	return err
}

// isApiError reports whether err is PocketBase's API error with that status
// and message.
func isApiError(err error, status int, message string) bool {
	var ae *router.ApiError
	return errors.As(err, &ae) && ae.Status == status && ae.Message == message
}

// apiErrorNames reports whether err is a 400 whose data names field.
func apiErrorNames(err error, field string) bool {
	var ae *router.ApiError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		return false
	}
	_, ok := ae.Data[field]
	return ok
}
