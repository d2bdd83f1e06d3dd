package routes

import (
	"net/http"
	"strings"
	"sync"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/security"

	"ticketportal/policy"
	"ticketportal/throttle"
	"ticketportal/validate"
)

// badCredentials is the one answer for an unknown account and a wrong
// password alike, so that login tells nobody which accounts exist.
const badCredentials = "Wrong user name, email or password."

// loginTargets says where each role's accounts live ("" = any role). A
// superAdmin is an admin too, so role "admin" lets agents and superAdmins
// alike into the agent side.
var loginTargets = map[string][]struct{ collection, role string }{
	"":                    {{policy.Users, ""}, {policy.Admins, ""}},
	policy.RoleUser:       {{policy.Users, ""}},
	policy.RoleAdmin:      {{policy.Admins, ""}},
	policy.RoleSuperAdmin: {{policy.Admins, policy.RoleSuperAdmin}},
}

// login checks a user name or email and a password and answers a
// PocketBase auth token, valid on the portal's routes and on PocketBase's
// own API and realtime.
func login(e *core.RequestEvent) error {
	var body struct {
		UserName string `json:"userName"`
		Password string `json:"password"`
		Role     string `json:"role"`
	}
	if err := readJSON(e, &body); err != nil {
		return err
	}
	f := fieldChecks{}
	f.check("userName", body.UserName, []validation.Rule{validation.Required, validation.Length(1, 255)})
	f.check("password", body.Password, []validation.Rule{validation.Required, validation.Length(1, 255)})
	targets, ok := loginTargets[body.Role]
	if !ok {
		f["role"] = validation.NewError("validation_invalid_value", "Must be user, admin or superAdmin.")
	}
	if err := f.err(); err != nil {
		return e.BadRequestError("Some fields are not valid.", err)
	}

	account := findLoginAccount(e.App, body.UserName, targets)
	check, err := throttle.StartPasswordCheck(e, account, body.UserName)
	if err != nil {
		return err
	}
	if account == nil {
		spendPasswordTime(e.App, body.Password)
		return e.UnauthorizedError(badCredentials, nil)
	}
	// bcrypt reads 72 bytes: a longer password would match its first 72
	if !validate.PasswordMayMatch(body.Password) || !account.ValidatePassword(body.Password) {
		return e.UnauthorizedError(badCredentials, nil)
	}
	check.Passed()

	// the collection's auth rule (customers: verified = true) decides who
	// gets a token, as on PocketBase's own auth endpoints
	if ok, _ := e.App.CanAccessRecord(account, callerInfo(e), account.Collection().AuthRule); !ok {
		if !account.Verified() {
			return e.ForbiddenError("Verify your email before you log in: open the link we mailed you, or ask for a new one.", nil)
		}
		return e.ForbiddenError("This account may not log in.", nil)
	}

	token, err := account.NewAuthToken()
	if err != nil {
		return e.InternalServerError("", err)
	}
	return e.JSON(http.StatusOK, map[string]any{
		"message": "Logged in.",
		"token":   token,
		"user":    accountJSON(account),
	})
}

// findLoginAccount finds the account named by identity (an email when it
// has an @, else a user name) among the targets, or nil.
func findLoginAccount(app core.App, identity string, targets []struct{ collection, role string }) *core.Record {
	field := "userName"
	if strings.Contains(identity, "@") {
		field = core.FieldNameEmail
	}
	for _, t := range targets {
		r, err := findAccount(app, t.collection, field, identity)
		if err != nil {
			continue
		}
		if t.role != "" && r.GetString("role") != t.role {
			continue
		}
		return r
	}
	return nil
}

var (
	dummyOnce    sync.Once
	dummyAccount *core.Record
)

// spendPasswordTime checks password against a throwaway customer hashed
// like real ones, so that an unknown account answers as slowly as a wrong
// password.
func spendPasswordTime(app core.App, password string) {
	dummyOnce.Do(func() {
		if users, err := app.FindCachedCollectionByNameOrId(policy.Users); err == nil {
			dummyAccount = core.NewRecord(users)
			dummyAccount.SetPassword(security.RandomString(30))
		}
	})
	if dummyAccount != nil {
		dummyAccount.ValidatePassword(password)
	}
}
