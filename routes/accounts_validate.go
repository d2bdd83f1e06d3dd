package routes

// The account field rules of the product live in package validate; these
// helpers collect the errors of several fields before answering.

import (
	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/validate"
)

// fieldChecks collects the errors of several fields before answering.
type fieldChecks validation.Errors

// check validates value against rules and records the first failure.
func (f fieldChecks) check(name, value string, rules []validation.Rule) {
	if err := validation.Validate(value, rules...); err != nil {
		f[name] = err
	}
}

// checkOptional validates value only when it was sent.
func (f fieldChecks) checkOptional(name string, value *string, rules []validation.Rule) {
	if value != nil {
		f.check(name, *value, rules)
	}
}

// checkConfirm requires confirm to repeat password.
func (f fieldChecks) checkConfirm(name, password, confirm string) {
	switch {
	case confirm == "":
		f[name] = validation.ErrRequired
	case confirm != password:
		f[name] = validation.NewError("validation_values_mismatch", "Must be the same as password.")
	}
}

// err returns the collected errors, or nil when every field passed.
func (f fieldChecks) err() error {
	if len(f) == 0 {
		return nil
	}
	return validation.Errors(f)
}

// readEmailBody reads a body of one field, {"email"}, and checks the
// address (the public routes that mail a link).
func readEmailBody(e *core.RequestEvent) (string, error) {
	var body struct {
		Email string `json:"email"`
	}
	if err := readJSON(e, &body); err != nil {
		return "", err
	}
	f := fieldChecks{}
	f.check("email", body.Email, validate.EmailRules)
	if err := f.err(); err != nil {
		return "", e.BadRequestError("Some fields are not valid.", err)
	}
	return body.Email, nil
}
