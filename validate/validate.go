// Package validate holds the account field rules of the product in one place:
// the custom routes, the record hooks (record API, batch API, dashboard) and
// the command line all check user names, emails, passwords, person names
// and mobile numbers with these rules. Each rule is a list of ozzo
// validation rules, so that a failing field is named in an error body's
// data with its code.
package validate

import (
	"regexp"
	"unicode"

	validation "github.com/pocketbase/ozzo-validation/v4"
	"github.com/pocketbase/ozzo-validation/v4/is"
)

// MaxPasswordBytes is bcrypt's limit: it reads 72 bytes of a password and
// ignores the rest, so a longer password is refused when it is set and when
// it is checked (otherwise "A"×72 + anything would match "A"×72).
const MaxPasswordBytes = 72

// Password length in characters (runes).
const (
	MinPasswordChars = 8
	MaxPasswordChars = 72
)

// MinMobileDigits is the least count of digits in a mobile number.
const MinMobileDigits = 6

// UserNamePattern is what a user name may contain (the migrations keep
// their own copy of the pattern in the fields they created).
var UserNamePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// MobilePattern is what a mobile number may contain.
var MobilePattern = regexp.MustCompile(`^[0-9 +()-]+$`)

var (
	// PasswordRules: 8 to 72 characters and at most 72 bytes of UTF-8.
	PasswordRules = []validation.Rule{
		validation.Required,
		validation.RuneLength(MinPasswordChars, MaxPasswordChars).Error("Must be 8 to 72 characters long."),
		validation.By(func(v any) error {
			if s, _ := v.(string); len(s) > MaxPasswordBytes {
				return validation.NewError("validation_length_too_long", "Must be at most 72 bytes long (accented letters and emoji take several).")
			}
			return nil
		}),
	}
	// EmailRules: a well-formed address of 3 to 255 characters.
	EmailRules = []validation.Rule{
		validation.Required,
		validation.Length(3, 255).Error("Must be 3 to 255 characters long."),
		is.EmailFormat.Error("Must be a valid email address."),
	}
	// UserNameRules: 3 to 50 of A-Z a-z 0-9 _ . -
	UserNameRules = []validation.Rule{
		validation.Required,
		validation.RuneLength(3, 50).Error("Must be 3 to 50 characters long."),
		validation.Match(UserNamePattern).Error("May only contain letters, digits, _ . and -."),
	}
	// PersonNameRules: 1 to 100 characters with at least one visible one
	// and no format or bidirectional control character (Unicode category
	// Cf: zero-width spaces, U+FEFF, U+202E right-to-left override, …),
	// which would show a blank or spoofed name in the console.
	PersonNameRules = []validation.Rule{
		validation.Required,
		validation.By(personName),
		validation.RuneLength(1, 100).Error("Must be 1 to 100 characters long."),
	}
	// MobileRules: 6 to 20 of digits, spaces and + - ( ), at least 6 digits.
	MobileRules = []validation.Rule{
		validation.Required,
		validation.RuneLength(6, 20).Error("Must be 6 to 20 characters long."),
		validation.Match(MobilePattern).Error("May only contain digits, spaces and + - ( )."),
		validation.By(mobileDigits),
	}
)

// PasswordMayMatch reports whether a password given at login (or as an old
// password) can be a stored one: longer than bcrypt's 72 bytes it cannot,
// and it is refused like a wrong password instead of being cut.
func PasswordMayMatch(password string) bool {
	return len(password) <= MaxPasswordBytes
}

// PasswordFits reports whether a new password passes PasswordRules.
func PasswordFits(password string) bool {
	return validation.Validate(password, PasswordRules...) == nil
}

// personName refuses names without a visible character or with a
// format (Cf) character.
func personName(v any) error {
	s, _ := v.(string)
	if s == "" {
		return nil // Required says so
	}
	visible := false
	for _, r := range s {
		if unicode.Is(unicode.Cf, r) {
			return validation.NewError("validation_invalid_character", "Must not contain invisible formatting or text-direction characters.")
		}
		if unicode.IsGraphic(r) && !unicode.IsSpace(r) {
			visible = true
		}
		if unicode.IsControl(r) {
			return validation.NewError("validation_invalid_character", "Must not contain control characters.")
		}
	}
	if !visible {
		return validation.ErrRequired // only white space
	}
	return nil
}

// mobileDigits requires MinMobileDigits digits.
func mobileDigits(v any) error {
	s, _ := v.(string)
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	if s != "" && n < MinMobileDigits {
		return validation.NewError("validation_too_few_digits", "Must contain at least 6 digits.")
	}
	return nil
}

// Field checks one value against rules; it returns nil or the first
// failure.
func Field(value string, rules []validation.Rule) error {
	return validation.Validate(value, rules...)
}
