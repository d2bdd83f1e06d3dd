package routes

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"regexp"
	"strings"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/server"
)

// The pages behind the mailed links, rendered on the server with
// html/template (everything shown is escaped) inside pages/layout.html.
//
//go:embed pages/*.html
var pageFiles embed.FS

var pageTemplates = map[string]*template.Template{}

func init() {
	for _, name := range []string{"message", "reset_password", "confirm_email_change"} {
		pageTemplates[name] = template.Must(template.ParseFS(pageFiles, "pages/layout.html", "pages/form_script.html", "pages/"+name+".html"))
	}
}

// accountPage is what a page shows.
type accountPage struct {
	AppName  string
	Title    string // the one h1, and the title
	Message  string
	Token    string // for the forms
	LinkURL  string
	LinkText string
}

// renderAccountPage answers with the named page. Pages carry tokens, so they are
// neither cached nor sent on as referrers. The portal's Content-Security-Policy
// allows no inline script; a page's own form script is allowed by its hash.
func renderAccountPage(e *core.RequestEvent, status int, name string, p accountPage) error {
	p.AppName = e.App.Settings().Meta.AppName
	var buf bytes.Buffer
	if err := pageTemplates[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		return e.InternalServerError("", err)
	}
	e.Response.Header().Set("Cache-Control", "no-store")
	e.Response.Header().Set("Referrer-Policy", "no-referrer")
	if csp := pageCSP(buf.String()); csp != "" {
		e.Response.Header().Set("Content-Security-Policy", csp)
	}
	return e.HTML(status, buf.String())
}

var (
	inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)
	scriptSrc    = regexp.MustCompile(`script-src [^;]*`)
)

// pageCSP is the portal's policy with the hashes of the page's inline
// scripts added to its script-src, or "" for a page without any.
func pageCSP(html string) string {
	var hashes []string
	for _, m := range inlineScript.FindAllStringSubmatch(html, -1) {
		sum := sha256.Sum256([]byte(m[1]))
		hashes = append(hashes, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'")
	}
	if len(hashes) == 0 {
		return ""
	}
	allowed := strings.Join(hashes, " ")
	if loc := scriptSrc.FindStringIndex(server.PageCSP); loc != nil {
		return server.PageCSP[:loc[1]] + " " + allowed + server.PageCSP[loc[1]:]
	}
	return server.PageCSP + "; script-src 'self' " + allowed
}
