package routes_test

import (
	"strings"
	"testing"
	"time"

	"ticketportal/testapp"
)

func TestAnswerMailReachesTheCustomer(t *testing.T) {
	app := testapp.New(t)
	srv := testapp.StartSMTP(t)
	srv.Use(t, app)
	base := testapp.Serve(t, app)
	meta := app.Settings().Meta

	answer := `Run <script>alert("x")</script> & restart.`
	status, raw := call(t, "PATCH", base+"/sendAnswerOnTicket/"+testapp.TicketId, testapp.Token(t, testapp.Admin), `{"answer":"Run <script>alert(\"x\")</script> & restart."}`)
	if status != 200 {
		t.Fatalf("answer: %d %s", status, raw)
	}
	m := srv.WaitFor(t, "alice@example.com", "[#"+testapp.TicketId+"]", 20*time.Second)

	// ticket mails are subjected [#<ticketId>] <ticketSubject>
	if m.Subject != "[#"+testapp.TicketId+"] How do I export my data?" {
		t.Errorf("subject %q is not [#<ticketId>] <ticketSubject>", m.Subject)
	}
	if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "Run &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; restart.") {
		t.Errorf("the answer is not escaped in the HTML part:\n%s", m.HTML)
	}
	link := strings.TrimRight(meta.AppURL, "/") + "/"
	if !strings.Contains(m.HTML, `href="`+link+`"`) || !strings.Contains(m.Text, link) {
		t.Errorf("no link to the portal (%s):\n%s\n%s", link, m.HTML, m.Text)
	}
	if !strings.Contains(m.Text, answer) || !strings.Contains(m.Text, "How do I export my data?") {
		t.Errorf("the text part lacks the answer or the ticket:\n%s", m.Text)
	}
	if n := len(srv.Mails()); n != 1 {
		t.Errorf("%d mails sent, want 1", n)
	}
}

// A slow mail server holds up neither the answer nor its request.
func TestAnswerWithSlowMailServer(t *testing.T) {
	app := testapp.New(t)
	srv := testapp.StartSMTP(t)
	srv.Use(t, app)
	srv.SetDelay(5 * time.Second)
	base := testapp.Serve(t, app)

	began := time.Now()
	status, raw := call(t, "PATCH", base+"/sendAnswerOnTicket/"+testapp.TicketId, testapp.Token(t, testapp.Admin), `{"answer":"Please wait for the mail."}`)
	took := time.Since(began)
	if status != 200 {
		t.Fatalf("answer: %d %s", status, raw)
	}
	if took > 2*time.Second {
		t.Errorf("the answer took %s with a slow mail server", took)
	}
	if n := answersOf(t, app, testapp.TicketId); n != 1 {
		t.Errorf("%d answers stored, want 1", n)
	}
	m := srv.WaitFor(t, "alice@example.com", "[#"+testapp.TicketId+"]", 30*time.Second)
	if !strings.Contains(m.Text, "Please wait for the mail.") {
		t.Errorf("mail without the answer: %s", m.Text)
	}
	t.Logf("answer with a 5 s SMTP delay: request took %s, mail arrived after %s", took.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}

// A mail server that refuses mail, or none at all, fails neither the answer
// nor its request.
func TestAnswerWithBrokenMailServer(t *testing.T) {
	for _, broken := range []string{"refusing", "down"} {
		t.Run(broken, func(t *testing.T) {
			app := testapp.New(t)
			srv := testapp.StartSMTP(t)
			srv.Use(t, app)
			if broken == "refusing" {
				srv.SetRefuse(true)
			} else {
				app.Settings().SMTP.Port = 1 // nothing listens there
			}
			base := testapp.Serve(t, app)

			began := time.Now()
			status, raw := call(t, "PATCH", base+"/sendAnswerOnTicket/"+testapp.TicketId, testapp.Token(t, testapp.Admin), `{"answer":"Mail is broken."}`)
			if status != 200 || !strings.Contains(string(raw), `"answer":"Mail is broken."`) {
				t.Fatalf("answer: %d %s", status, raw)
			}
			if took := time.Since(began); took > 2*time.Second {
				t.Errorf("the answer took %s", took)
			}
			if n := answersOf(t, app, testapp.TicketId); n != 1 {
				t.Errorf("%d answers stored, want 1", n)
			}
		})
	}
}
