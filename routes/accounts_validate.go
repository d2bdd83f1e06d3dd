package routes

import (
	"regexp"
	"strings"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/ozzo-validation/v4/is"
	"github.com/pocketbase/pocketbase/core"
)

// The account field rules of the product, one list per kind of field. Each
// failing field is named in the error body's data with its code.
var (
	userNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
	mobilePattern   = regexp.MustCompile(`^[0-9 +()-]+$`)

	passwordRules = []validation.Rule{
		validation.Required,
		validation.RuneLength(8, 72).Error("Must be 8 to 72 characters long."),
		validation.By(func(v any) error { // bcrypt reads 72 bytes at most
			if s, _ := v.(string); len(s) > 72 {
				return validation.NewError("validation_length_too_long", "Must be at most 72 bytes long (accented letters and emoji take several).")
			}
			return nil
		}),
	}
	emailRules = []validation.Rule{
		validation.Required,
		validation.Length(3, 255).Error("Must be 3 to 255 characters long."),
		is.EmailFormat.Error("Must be a valid email address."),
	}
	userNameRules = []validation.Rule{
		validation.Required,
		validation.RuneLength(3, 50).Error("Must be 3 to 50 characters long."),
		validation.Match(userNamePattern).Error("May only contain letters, digits, _ . and -."),
	}
	personNameRules = []validation.Rule{
		validation.Required,
		validation.By(func(v any) error {
			if s, _ := v.(string); strings.TrimSpace(s) == "" {
				return validation.ErrRequired
			}
			return nil
		}),
		validation.RuneLength(1, 100).Error("Must be 1 to 100 characters long."),
	}
	mobileRules = []validation.Rule{
		validation.Required,
		validation.RuneLength(6, 20).Error("Must be 6 to 20 characters long."),
		validation.Match(mobilePattern).Error("May only contain digits, spaces and + - ( )."),
	}
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

// setPassword sets an account's password, already checked by passwordRules.
// PocketBase's password field stops at 71 characters while the product allows
// 72 (bcrypt's real limit), so, like PocketBase's own SetRandomPassword, it
// keeps only the hash (which skips the field's length check) and renews the
// token key itself.
func setPassword(r *core.Record, password string) {
	r.SetPassword(password)
	r.RefreshTokenKey()
	if v, ok := r.GetRaw(core.FieldNamePassword).(*core.PasswordFieldValue); ok && v.LastError == nil {
		v.Plain = ""
	}
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
	f.check("email", body.Email, emailRules)
	if err := f.err(); err != nil {
		return "", e.BadRequestError("Some fields are not valid.", err)
	}
	return body.Email, nil
}
