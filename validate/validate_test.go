package validate_test

import (
	"errors"
	"strings"
	"testing"

	validation "github.com/pocketbase/ozzo-validation/v4"

	"ticketportal/validate"
)

func code(err error) string {
	var ve validation.Error
	if errors.As(err, &ve) {
		return ve.Code()
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestPersonNameRules(t *testing.T) {
	for _, c := range []struct {
		name, value, code string
	}{
		{"plain", "Alice", ""},
		{"accents and spaces", "  Ève Marie ", ""},
		{"Arabic (right-to-left script is fine)", "سارة", ""},
		{"emoji", "Al 🎉", ""},
		{"empty", "", "validation_required"},
		{"spaces only", "   ", "validation_required"},
		{"zero width spaces only", "\u200b\u200b", "validation_invalid_character"},
		{"byte order mark only", "\ufeff", "validation_invalid_character"},
		{"right-to-left override", "Alice\u202eevilA", "validation_invalid_character"},
		{"left-to-right mark", "Bob\u200e", "validation_invalid_character"},
		{"soft hyphen (Cf)", "Al\u00adice", "validation_invalid_character"},
		{"control character", "Al\u0007ice", "validation_invalid_character"},
		{"no-break spaces only", "\u00a0\u3000", "validation_required"},
		{"101 characters", strings.Repeat("a", 101), "validation_length_out_of_range"},
		{"100 characters", strings.Repeat("é", 100), ""},
	} {
		if got := code(validate.Field(c.value, validate.PersonNameRules)); got != c.code {
			t.Errorf("%s %q: %q, want %q", c.name, c.value, got, c.code)
		}
	}
}

func TestMobileRules(t *testing.T) {
	for _, c := range []struct {
		name, value, code string
	}{
		{"international", "+1 555 0100", ""},
		{"six digits", "123456", ""},
		{"with brackets", "(030) 1234-56", ""},
		{"spaces only", "      ", "validation_too_few_digits"},
		{"dashes only", "------", "validation_too_few_digits"},
		{"five digits", "+1 (234) 5", "validation_too_few_digits"},
		{"letters", "555-CALL-ME", "validation_match_invalid"},
		{"too short", "12345", "validation_length_out_of_range"},
		{"too long", strings.Repeat("1", 21), "validation_length_out_of_range"},
		{"empty", "", "validation_required"},
	} {
		if got := code(validate.Field(c.value, validate.MobileRules)); got != c.code {
			t.Errorf("%s %q: %q, want %q", c.name, c.value, got, c.code)
		}
	}
}

func TestPasswordRules(t *testing.T) {
	for _, c := range []struct {
		name, value, code string
	}{
		{"8 characters", "abcdefgh", ""},
		{"7 characters", "abcdefg", "validation_length_out_of_range"},
		{"72 ASCII characters", strings.Repeat("A", 72), ""},
		{"73 ASCII characters", strings.Repeat("A", 73), "validation_length_out_of_range"},
		{"36 two-byte letters (72 bytes)", strings.Repeat("é", 36), ""},
		{"37 two-byte letters (74 bytes)", strings.Repeat("é", 37), "validation_length_too_long"},
		{"72 two-byte letters (144 bytes)", strings.Repeat("é", 72), "validation_length_too_long"},
		{"18 emoji (72 bytes)", strings.Repeat("🔑", 18), ""},
		{"empty", "", "validation_required"},
	} {
		if got := code(validate.Field(c.value, validate.PasswordRules)); got != c.code {
			t.Errorf("%s: %q, want %q", c.name, got, c.code)
		}
		if fits := validate.PasswordFits(c.value); fits != (c.code == "") {
			t.Errorf("PasswordFits(%s) = %v", c.name, fits)
		}
	}
	if !validate.PasswordMayMatch(strings.Repeat("A", 72)) || validate.PasswordMayMatch(strings.Repeat("A", 72)+"B") {
		t.Error("PasswordMayMatch must accept 72 bytes and refuse 73")
	}
}

func TestUserNameAndEmailRules(t *testing.T) {
	for _, c := range []struct {
		value string
		rules []validation.Rule
		code  string
	}{
		{"alice_01.x-y", validate.UserNameRules, ""},
		{"al", validate.UserNameRules, "validation_length_out_of_range"},
		{"al ice", validate.UserNameRules, "validation_match_invalid"},
		{"alice\u200b", validate.UserNameRules, "validation_match_invalid"},
		{"alice@example.com", validate.EmailRules, ""},
		{"alice(at)example.com", validate.EmailRules, "validation_is_email"},
	} {
		if got := code(validate.Field(c.value, c.rules)); got != c.code {
			t.Errorf("%q: %q, want %q", c.value, got, c.code)
		}
	}
}
