package store

import (
	"unicode/utf8"

	"github.com/pocketbase/pocketbase/core"
)

// MaxPasswordBytes is bcrypt's limit: the product allows passwords of up to 72
// characters, one more than PocketBase's password field accepts (71).
const MaxPasswordBytes = 72

// PasswordFits reports whether a password is 8 to 72 characters long and
// fits bcrypt's 72 bytes.
func PasswordFits(plain string) bool {
	n := utf8.RuneCountInString(plain)
	return n >= 8 && n <= 72 && len(plain) <= MaxPasswordBytes
}

// SetPassword hashes an already validated password (see PasswordFits) into
// an auth record. It skips the password field's own length check, which
// stops at 71 characters; bcrypt still refuses anything over 72 bytes.
// Saving a changed password still renews the record's token key.
func SetPassword(r *core.Record, plain string) {
	r.SetPassword(plain)
	if v, ok := r.GetRaw(core.FieldNamePassword).(*core.PasswordFieldValue); ok {
		v.Plain = ""
	}
}
