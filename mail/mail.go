// Package mail renders the portal's mails from embedded templates and hands
// them to PocketBase's mailer without making the caller wait.
//
// Each mail is one file templates/<name>.tmpl defining "subject", "html"
// (the body inside templates/layout.tmpl) and "text". The HTML part is
// rendered with html/template, so everything a user typed is escaped.
package mail

import (
	"bytes"
	"embed"
	htmltemplate "html/template"
	"net/mail"
	"strings"
	texttemplate "text/template"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/mailer"
)

//go:embed templates/*.tmpl
var files embed.FS

// Data is what every template sees: the app's name and URL plus the mail's
// own values under .V.
type Data struct {
	AppName string
	AppURL  string
	V       map[string]any
}

// Build renders the named mail for one recipient.
func Build(app core.App, to string, name string, values map[string]any) (*mailer.Message, error) {
	meta := app.Settings().Meta
	data := Data{AppName: meta.AppName, AppURL: strings.TrimRight(meta.AppURL, "/"), V: values}

	text, err := texttemplate.ParseFS(files, "templates/"+name+".tmpl")
	if err != nil {
		return nil, err
	}
	html, err := htmltemplate.ParseFS(files, "templates/layout.tmpl", "templates/"+name+".tmpl")
	if err != nil {
		return nil, err
	}
	var subject, textBody, htmlBody bytes.Buffer
	if err := text.ExecuteTemplate(&subject, "subject", data); err != nil {
		return nil, err
	}
	if err := text.ExecuteTemplate(&textBody, "text", data); err != nil {
		return nil, err
	}
	if err := html.ExecuteTemplate(&htmlBody, "layout", data); err != nil {
		return nil, err
	}
	return &mailer.Message{
		From:    mail.Address{Name: meta.SenderName, Address: meta.SenderAddress},
		To:      []mail.Address{{Address: to}},
		Subject: strings.TrimSpace(subject.String()),
		HTML:    htmlBody.String(),
		Text:    strings.TrimSpace(textBody.String()) + "\n",
	}, nil
}
