package testapp_test

import (
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/tools/mailer"

	"ticketportal/testapp"
)

func TestSMTPServerReceivesWhatTheAppSends(t *testing.T) {
	app := testapp.New(t)
	defer app.Cleanup()
	srv := testapp.StartSMTP(t)
	srv.Use(t, app)

	err := app.NewMailClient().Send(&mailer.Message{
		From:    mail.Address{Address: "support@example.com"},
		To:      []mail.Address{{Address: "alice@example.com"}},
		Subject: "Grüße <test>",
		HTML:    "<p>Hello <b>there</b></p>",
		Text:    "Hello there",
	})
	if err != nil {
		t.Fatal(err)
	}
	m := srv.WaitFor(t, "alice@example.com", "Grüße", 5*time.Second)
	if !strings.Contains(m.HTML, "<b>there</b>") || !strings.Contains(m.Text, "Hello there") {
		t.Fatalf("parts not decoded: html=%q text=%q", m.HTML, m.Text)
	}
}
