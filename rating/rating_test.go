package rating

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTokens(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	other := []byte("fedcba9876543210fedcba9876543210")
	issued := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	tok := NewToken(key, "ticket000000001", issued)
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	parts := strings.Split(tok, ".")
	cases := []struct {
		name  string
		token string
		key   []byte
		now   time.Time
		want  error
	}{
		{"fresh", tok, key, issued, nil},
		{"six days later", tok, key, issued.Add(6 * 24 * time.Hour), nil},
		{"exactly seven days", tok, key, issued.Add(Window), nil},
		{"past seven days", tok, key, issued.Add(Window + time.Second), ErrExpired},
		{"another server's key", tok, other, issued, ErrInvalid},
		{"signature tampered", flip(tok, len(tok)-3), key, issued, ErrInvalid},
		{"another ticket with this signature", "ticket000000002." + parts[1] + "." + parts[2], key, issued, ErrInvalid},
		{"issue time pushed later (to extend it)", parts[0] + "." + "1900000000" + "." + parts[2], key, issued, ErrInvalid},
		{"empty", "", key, issued, ErrInvalid},
		{"garbage", "<script>", key, issued, ErrInvalid},
		{"signed in the future", NewToken(key, "ticket000000001", issued.Add(time.Hour)), key, issued, ErrInvalid},
	}
	for _, c := range cases {
		id, err := Check(c.key, c.token, c.now)
		if !errors.Is(err, c.want) || (err == nil && id != "ticket000000001") {
			t.Errorf("%s: %q, %v; want %v", c.name, id, err, c.want)
		}
	}
}
