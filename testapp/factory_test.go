package testapp_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/testapp"
)

// A scenario's request returns with the mail it queued already sent by the
// outbox, so that no worker fires a hook while ApiScenario reads the hook
// call counts (without a lock) after the request: the send is counted
// within the request, and the mailer holds the mail at once.
func TestScenarioRequestsReturnWithTheirMailSent(t *testing.T) {
	for i := range 3 {
		(&tests.ApiScenario{
			Name:           "forgetPassword " + string(rune('a'+i)),
			Method:         http.MethodPost,
			URL:            "/forgetPassword",
			Body:           strings.NewReader(`{"email":"alice@example.com"}`),
			ExpectedStatus: 200,
			ExpectedContent: []string{
				`"message":`,
			},
			ExpectedEvents: map[string]int{"OnMailerSend": 1},
			TestAppFactory: testapp.Factory,
			AfterTestFunc: func(t testing.TB, app *tests.TestApp, _ *http.Response) {
				if n := app.TestMailer.TotalSend(); n != 1 {
					t.Fatalf("the mailer holds %d mails when the request returns, want 1", n)
				}
				if to := app.TestMailer.LastMessage().To; len(to) != 1 || to[0].Address != "alice@example.com" {
					t.Fatalf("the mail went to %v", to)
				}
			},
		}).Test(t)
	}
}
