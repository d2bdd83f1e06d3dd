package store

import (
	"unicode/utf8"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/validate"
)

// pocketBaseMaxPasswordChars is where PocketBase's password field stops
// (71 characters); the product allows 72, bcrypt's real limit.
const pocketBaseMaxPasswordChars = 71

// SetPassword sets a new password on an auth record. The record keeps the
// plain text until it is saved, so that CheckNewPassword (bound to every
// save of an account) checks it whatever path sets it.
func SetPassword(r *core.Record, plain string) {
	r.SetPassword(plain)
}

// CheckNewPassword checks the new password of an auth record about to be
// saved against validate.PasswordRules (8 to 72 characters, at most 72
// bytes) and returns the field errors, or nil. A valid password of 72
// characters, one more than PocketBase's password field accepts, is kept as
// its hash alone (like PocketBase's own SetRandomPassword), which skips the
// field's length check, and the token key is renewed here, as PocketBase
// does for a changed password.
func CheckNewPassword(r *core.Record) error {
	v, ok := r.GetRaw(core.FieldNamePassword).(*core.PasswordFieldValue)
	if !ok || v == nil || v.Plain == "" {
		return nil // no new password
	}
	if err := validate.Field(v.Plain, validate.PasswordRules); err != nil {
		return validation.Errors{core.FieldNamePassword: err}
	}
	if v.LastError == nil && utf8.RuneCountInString(v.Plain) > pocketBaseMaxPasswordChars {
		v.Plain = ""
		if !r.IsNew() {
			r.RefreshTokenKey()
		}
	}
	return nil
}
