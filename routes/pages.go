package routes

import (
	"bytes"
	"embed"
	"html/template"

	"github.com/pocketbase/pocketbase/core"
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
// neither cached nor sent on as referrers.
func renderAccountPage(e *core.RequestEvent, status int, name string, p accountPage) error {
	p.AppName = e.App.Settings().Meta.AppName
	var buf bytes.Buffer
	if err := pageTemplates[name].ExecuteTemplate(&buf, "layout", p); err != nil {
		return e.InternalServerError("", err)
	}
	e.Response.Header().Set("Cache-Control", "no-store")
	e.Response.Header().Set("Referrer-Policy", "no-referrer")
	return e.HTML(status, buf.String())
}
