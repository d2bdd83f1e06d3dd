package routes

import (
	"errors"
	"net/http"

	"github.com/pocketbase/dbx"
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/hooks"
	"ticketportal/policy"
)

// bindAccounts lists the accounts routes: sign-up and verification, login,
// profile and password, and the pages behind the mailed links. Operators
// (superusers) log in on PocketBase's own
// /api/collections/_superusers/auth-with-password instead.
func bindAccounts(se *core.ServeEvent) {
	se.Router.POST("/signUp", signUp)
	se.Router.GET("/verifyAccount", verifyAccount)
	se.Router.POST("/resendVerification", resendVerification)
	se.Router.POST("/login", login)
	se.Router.PATCH("/editProfile", editProfile).BindFunc(requireAccount)
	se.Router.GET("/confirmEmailChange", confirmEmailChangePage)
	se.Router.POST("/confirmEmailChange", confirmEmailChange)
	se.Router.PATCH("/changePassword", changePassword).BindFunc(requireAccount)
	se.Router.POST("/forgetPassword", forgetPassword)
	se.Router.GET("/resetPassword", resetPasswordPage)
	se.Router.POST("/resetPassword", resetPassword)
}

// accountCollections are the collections whose accounts use these routes.
var accountCollections = []string{policy.Users, policy.Admins}

// requireAccount lets through customers, admins and superAdmins: 401
// without a valid token, 403 for operators, whose account lives in the
// dashboard.
func requireAccount(e *core.RequestEvent) error {
	switch policy.RoleOf(e.Auth) {
	case "":
		return e.UnauthorizedError("Sign in to continue.", nil)
	case policy.RoleOperator:
		return e.ForbiddenError("Operators manage their account in the dashboard.", nil)
	}
	return e.Next()
}

// isAccount reports whether r is a customer or agent account (not an
// operator or a record of another collection).
func isAccount(r *core.Record) bool {
	switch policy.RoleOf(r) {
	case policy.RoleUser, policy.RoleAdmin, policy.RoleSuperAdmin:
		return true
	}
	return false
}

// findAccount returns the account of collection whose field (email or
// userName) equals value, ignoring case; both have NOCASE unique indexes.
func findAccount(app core.App, collection, field, value string) (*core.Record, error) {
	r := &core.Record{}
	err := app.RecordQuery(collection).
		AndWhere(dbx.NewExp("[["+field+"]] = {:v} COLLATE NOCASE", dbx.Params{"v": value})).
		Limit(1).
		One(r)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// findAccountByEmail looks for the email among customers, then agents.
func findAccountByEmail(app core.App, email string) (*core.Record, error) {
	for _, name := range accountCollections {
		if r, err := findAccount(app, name, core.FieldNameEmail, email); err == nil {
			return r, nil
		}
	}
	return nil, errors.New("no account with that email")
}

// accountJSON prepares an account for its own holder: email shown, role
// (and isVerified for customers) added; hashes and token keys never leave.
func accountJSON(r *core.Record) *core.Record {
	r.IgnoreEmailVisibility(true)
	hooks.ShapeAccount(r)
	return r
}

// accountSaveError turns a failed save of an account into a client answer: 409
// naming the taken fields, 400 naming the invalid ones, 500 otherwise.
func accountSaveError(e *core.RequestEvent, err error) error {
	var errs validation.Errors
	if !errors.As(err, &errs) {
		return e.InternalServerError("", err)
	}
	taken := validation.Errors{}
	for field, fe := range errs {
		var ve validation.Error
		if errors.As(fe, &ve) && ve.Code() == "validation_not_unique" {
			taken[field] = validation.NewError("validation_not_unique", "Already taken by another account.")
		}
	}
	if len(taken) > 0 {
		return e.Error(http.StatusConflict, "That "+fieldList(taken)+" is already taken.", taken)
	}
	return e.BadRequestError("Some fields are not valid.", errs)
}

// fieldList names the fields of errs for a message ("userName and email").
func fieldList(errs validation.Errors) string {
	var names []string
	for _, f := range []string{"userName", "email"} {
		if errs[f] != nil {
			names = append(names, f)
		}
	}
	for f := range errs {
		if f != "userName" && f != "email" {
			names = append(names, f)
		}
	}
	switch len(names) {
	case 0:
		return "value"
	case 1:
		return names[0]
	}
	out := names[0]
	for _, n := range names[1 : len(names)-1] {
		out += ", " + n
	}
	return out + " and " + names[len(names)-1]
}
