package migrations

import (
	"github.com/pocketbase/pocketbase/core"
	m "github.com/pocketbase/pocketbase/migrations"
)

// RateLimitRules are the portal's default throttling rules: PocketBase's
// rate limiter, counted per client IP, in fixed windows. They are stored in
// the settings (dashboard → Settings → Rate limits), where an operator may
// change them or exclude an office's IP; this migration only sets the
// defaults. The README's "Operations" section explains each number.
var RateLimitRules = []core.RateLimitRule{
	// Password guessing on the portal's login and PocketBase's own auth
	// endpoints (password, OAuth2, OTP; every auth collection, the
	// dashboard's too). 20 a minute lets a whole shift of agents behind one
	// office IP log in at 9:00 and mistype, and keeps a guesser to 28,800
	// tries a day per IP against bcrypt.
	{Label: "POST /login", MaxRequests: 20, Duration: 60},
	{Label: "*:auth", MaxRequests: 20, Duration: 60},
	// Guessing the old password with a stolen token.
	{Label: "PATCH /changePassword", MaxRequests: 10, Duration: 60},
	// Each of these sends a mail: keep one IP from mail-bombing an address
	// or filling the outbox.
	{Label: "POST /signUp", MaxRequests: 10, Duration: 600},
	{Label: "POST /forgetPassword", MaxRequests: 5, Duration: 300},
	{Label: "POST /resendVerification", MaxRequests: 5, Duration: 300},
	{Label: "*:requestPasswordReset", MaxRequests: 5, Duration: 300},
	{Label: "*:requestVerification", MaxRequests: 5, Duration: 300},
	{Label: "*:requestEmailChange", MaxRequests: 5, Duration: 300},
	{Label: "*:requestOTP", MaxRequests: 5, Duration: 300},
	// Reset tokens are signed, so this is only against hammering bcrypt.
	{Label: "POST /resetPassword", MaxRequests: 10, Duration: 300},
	{Label: "*:confirmPasswordReset", MaxRequests: 10, Duration: 300},
	// A customer writes a ticket in minutes; 20 a minute per IP is far above
	// any office full of customers and far below a flood.
	{Label: "POST /sendTicket", MaxRequests: 20, Duration: 60},
	// PocketBase's own defaults for the rest of its API.
	{Label: "*:create", MaxRequests: 20, Duration: 5},
	{Label: "/api/batch", MaxRequests: 3, Duration: 1},
	{Label: "/api/", MaxRequests: 300, Duration: 10},
}

// Throttling is on by default, with RateLimitRules. Rules an operator added
// with other labels are kept.
func init() {
	m.Register(func(app core.App) error {
		s := app.Settings()
		rules := append([]core.RateLimitRule(nil), RateLimitRules...)
		ours := map[string]bool{}
		for _, r := range RateLimitRules {
			ours[r.Label+"@@"+r.Audience] = true
		}
		for _, r := range s.RateLimits.Rules {
			if !ours[r.Label+"@@"+r.Audience] {
				rules = append(rules, r)
			}
		}
		s.RateLimits.Rules = rules
		s.RateLimits.Enabled = true
		return app.Save(s)
	}, func(app core.App) error {
		s := app.Settings()
		s.RateLimits.Enabled = false
		return app.Save(s)
	})
}
