// Package rating makes and checks the signed links of the rating mail.
//
// A token is "<ticketId>.<issued unix seconds>.<signature>", the signature
// being the first 18 bytes of HMAC-SHA256 under the server's rating key,
// base64url. The key is 32 random bytes made by the migration and kept in
// the database table portalSecrets (no API or dashboard shows it), so it
// survives restarts and travels with backups; deleting its row and
// restarting is not supported (old links would fail as tampered).
// A token names one ticket and is good for Window after it was issued.
package rating

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/store"
)

// Scores.
const (
	Good = "good"
	Bad  = "bad"
)

// Window is how long a rating link works (and the rating can be changed).
const Window = 7 * 24 * time.Hour

// MaxComment is the longest comment, in characters (the field's Max).
const MaxComment = 2000

// Errors of Check.
var (
	ErrInvalid = errors.New("the rating link is not valid")
	ErrExpired = errors.New("the rating link has expired")
)

// Key reads the server's rating key.
func Key(app core.App) ([]byte, error) {
	v, err := store.Secret(app, "rating")
	if err != nil {
		return nil, err
	}
	return hex.DecodeString(v)
}

func sign(key []byte, ticketId string, issued int64) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("rating:" + ticketId + "." + strconv.FormatInt(issued, 10)))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil)[:18])
}

// NewToken signs a token for ticketId, issued at now.
func NewToken(key []byte, ticketId string, now time.Time) string {
	issued := now.Unix()
	return ticketId + "." + strconv.FormatInt(issued, 10) + "." + sign(key, ticketId, issued)
}

var tokenShape = regexp.MustCompile(`^([a-z0-9]{15})\.([0-9]{1,12})\.([A-Za-z0-9_-]{24})$`)

// Check verifies a token at now and returns its ticket id: ErrInvalid for
// a malformed, tampered or foreign token, ErrExpired past the Window.
func Check(key []byte, token string, now time.Time) (string, error) {
	m := tokenShape.FindStringSubmatch(token)
	if m == nil {
		return "", ErrInvalid
	}
	issued, err := strconv.ParseInt(m[2], 10, 64)
	if err != nil {
		return "", ErrInvalid
	}
	if !hmac.Equal([]byte(sign(key, m[1], issued)), []byte(m[3])) {
		return "", ErrInvalid
	}
	at := time.Unix(issued, 0)
	if now.Before(at.Add(-time.Minute)) { // signed in the future: not ours
		return "", ErrInvalid
	}
	if now.After(at.Add(Window)) {
		return "", ErrExpired
	}
	return m[1], nil
}

// ValidScore says whether s is a score.
func ValidScore(s string) bool { return s == Good || s == Bad }

// Link is the one-click link of a score.
func Link(appURL, token, score string) string {
	return strings.TrimRight(appURL, "/") + "/rateTicket?token=" + url.QueryEscape(token) + "&score=" + score
}
