package server

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
)

// PageCSP is the Content-Security-Policy of every response outside the
// dashboard: the pages may load scripts, styles, images and fonts from the
// portal itself and talk only to it (the API and realtime); no inline
// script, no plugin, no framing by another site. A handler that needs
// another policy (a page with an inline script allowed by its hash) sets
// its own header, which replaces this one. The dashboard (/_/) keeps
// PocketBase's own policy.
const PageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// redacted replaces secrets in the request logs.
const redacted = "REDACTED"

func bindHeaders(app core.App) {
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		// Security headers, set before the handler runs so that it may
		// override them. PocketBase already sends X-Content-Type-Options:
		// nosniff, X-Frame-Options: SAMEORIGIN and
		// Cross-Origin-Opener-Policy: same-origin.
		se.Router.Bind(&hook.Handler[*core.RequestEvent]{
			Id:       "portalSecurityHeaders",
			Priority: apis.DefaultSecurityHeadersMiddlewarePriority + 1,
			Func: func(e *core.RequestEvent) error {
				h := e.Response.Header()
				h.Set("X-Content-Type-Options", "nosniff")
				// The mailed links carry tokens in their query: never send
				// a page's address on to anyone, nor keep such a page.
				h.Set("Referrer-Policy", "no-referrer")
				if hasSecretQuery(e.Request.URL.RawQuery) {
					h.Set("Cache-Control", "no-store")
				}
				if !isDashboard(e.Request.URL.Path) {
					h.Set("Content-Security-Policy", PageCSP)
					h.Set("X-Frame-Options", "DENY")
					h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
				}
				return e.Next()
			},
		})

		// PocketBase's request log stores each request's URL and Referer.
		// The links in the portal's mails carry account tokens in their
		// query (?token=...), as do PocketBase's protected file URLs: the
		// log gets a copy of the request with those values replaced. This
		// runs inside the activity logger, after the handler is done.
		se.Router.Bind(&hook.Handler[*core.RequestEvent]{
			Id:       "portalRedactRequestLog",
			Priority: apis.DefaultActivityLoggerMiddlewarePriority + 1,
			Func: func(e *core.RequestEvent) error {
				err := e.Next()
				e.Request = RedactedRequest(e.Request)
				return err
			},
		})
		return se.Next()
	})
}

func isDashboard(path string) bool {
	return path == "/_" || strings.HasPrefix(path, "/_/")
}

// isSecretKey says whether a query parameter holds a secret.
func isSecretKey(key string) bool {
	k := strings.ToLower(key)
	return k == "token" || strings.Contains(k, "password") || strings.Contains(k, "secret") || strings.HasSuffix(k, "token")
}

func hasSecretQuery(rawQuery string) bool {
	if rawQuery == "" {
		return false
	}
	q, _ := url.ParseQuery(rawQuery)
	for k := range q {
		if isSecretKey(k) {
			return true
		}
	}
	return false
}

// RedactQuery returns rawQuery with the values of secret parameters
// replaced. A query that does not parse is dropped entirely.
func RedactQuery(rawQuery string) string {
	if rawQuery == "" {
		return ""
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return redacted
	}
	changed := false
	for k, vs := range q {
		if isSecretKey(k) {
			for i := range vs {
				vs[i] = redacted
			}
			changed = true
		}
	}
	if !changed {
		return rawQuery
	}
	return q.Encode()
}

// RedactedRequest returns r itself when it carries no secret in its URL or
// Referer, otherwise a shallow copy with them redacted.
func RedactedRequest(r *http.Request) *http.Request {
	query := RedactQuery(r.URL.RawQuery)
	referer := r.Header.Get("Referer")
	cleanReferer := referer
	if referer != "" {
		if u, err := url.Parse(referer); err == nil {
			u.RawQuery = RedactQuery(u.RawQuery)
			u.Fragment = ""
			cleanReferer = u.String()
		} else {
			cleanReferer = redacted
		}
	}
	if query == r.URL.RawQuery && cleanReferer == referer {
		return r
	}
	c := r.WithContext(r.Context())
	u := *r.URL
	u.RawQuery = query
	c.URL = &u
	c.RequestURI = u.RequestURI()
	c.Header = r.Header.Clone()
	if referer != "" {
		c.Header.Set("Referer", cleanReferer)
	}
	return c
}
