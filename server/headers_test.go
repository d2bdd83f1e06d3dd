package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"

	"ticketportal/server"
	"ticketportal/testapp"
)

// hardeningClient fails a request that hangs instead of the whole package.
var hardeningClient = &http.Client{Timeout: 30 * time.Second}

func get(t testing.TB, url string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := hardeningClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// Every response outside the dashboard carries the portal's security
// headers, API errors included.
func TestSecurityHeadersOnEveryResponse(t *testing.T) {
	app := testapp.New(t)
	base := testapp.Serve(t, app)
	owner := map[string]string{"Authorization": "Bearer " + testapp.Token(t, testapp.Owner)}
	for _, tc := range []struct {
		path   string
		header map[string]string
	}{
		{"/getUserTickets", owner},
		{"/getUserTickets", nil}, // 401
		{"/searchForTicket/nope", owner},
		{"/api/health", nil},
		{"/api/collections/tickets/records", owner},
		{"/verifyAccount?token=not-a-token", nil},
	} {
		res := get(t, base+tc.path, tc.header)
		for name, want := range map[string]string{
			"Content-Security-Policy": server.PageCSP,
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"X-Frame-Options":         "DENY",
		} {
			if got := res.Header.Get(name); got != want {
				t.Errorf("GET %s (%d): %s = %q, want %q", tc.path, res.StatusCode, name, got, want)
			}
		}
	}
	for _, directive := range []string{"default-src 'self'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
		if !strings.Contains(server.PageCSP, directive) {
			t.Errorf("the policy lacks %s", directive)
		}
	}
	if strings.Contains(server.PageCSP, "unsafe") {
		t.Errorf("the policy allows unsafe sources: %s", server.PageCSP)
	}
	// a URL with a token in it is never cached
	if res := get(t, base+"/verifyAccount?token=not-a-token", nil); res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("a page with a token may be cached: %q", res.Header.Get("Cache-Control"))
	}
}

// PocketBase's request log keeps no token: not the query of a mailed link,
// not a Referer carrying one, not the Authorization header.
func TestRequestLogsKeepNoTokens(t *testing.T) {
	app := testapp.New(t)
	app.Settings().Logs.MaxDays = 5 // a TestApp keeps no logs otherwise
	base := testapp.Serve(t, app)
	bearer := testapp.Token(t, testapp.Owner)
	get(t, base+"/verifyAccount?token=LEAKED-verify-token", nil)
	get(t, base+"/resetPassword?token=LEAKED-reset-token&lang=en", nil)
	get(t, base+"/api/files/users/x/y.png?token=LEAKED-file-token", nil)
	get(t, base+"/getUserTickets?page=1", map[string]string{
		"Authorization": "Bearer " + bearer,
		"Referer":       "http://127.0.0.1/resetPassword?token=LEAKED-referer-token#frag",
	})

	type logRow struct {
		Message string `db:"message"`
		Data    string `db:"data"`
	}
	var rows []logRow
	deadline := time.Now().Add(10 * time.Second) // the log is written in batches every 3 s
	for {
		rows = nil
		err := app.AuxDB().Select("message", "data").From(core.LogsTableName).All(&rows)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) >= 4 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(rows) < 4 {
		t.Fatalf("only %d request logs were written", len(rows))
	}
	all := ""
	for _, r := range rows {
		all += r.Message + "\n" + r.Data + "\n"
	}
	for _, secret := range []string{"LEAKED", bearer} {
		if strings.Contains(all, secret) {
			t.Errorf("the request log holds a secret %q:\n%s", secret[:min(len(secret), 20)], all)
		}
	}
	for _, want := range []string{"token=REDACTED", "lang=en", "page=1", `resetPassword?token=REDACTED"`} {
		if !strings.Contains(all, want) {
			t.Errorf("the request log lacks %q:\n%s", want, all)
		}
	}
}

func TestRedactQuery(t *testing.T) {
	for in, want := range map[string]string{
		"":                              "",
		"page=1&limit=10":               "page=1&limit=10",
		"token=abc":                     "token=REDACTED",
		"Token=abc&page=2":              "Token=REDACTED&page=2",
		"resetToken=a&password=b&x=%zz": "REDACTED",
		"password=b&oldPassword=c":      "oldPassword=REDACTED&password=REDACTED",
		"clientSecret=s":                "clientSecret=REDACTED",
	} {
		if got := server.RedactQuery(in); got != want {
			t.Errorf("RedactQuery(%q) = %q, want %q", in, got, want)
		}
	}
}

// An internal failure (here a handler that panics, or returns a raw
// database error) answers PocketBase's generic 500: no SQL, no stack, no
// path in the answer.
func TestInternalErrorsTellNothing(t *testing.T) {
	app := testapp.New(t)
	app.OnServe().BindFunc(func(se *core.ServeEvent) error {
		se.Router.GET("/test/panic", func(e *core.RequestEvent) error {
			panic("SELECT secret FROM users at /work/main/routes/x.go:12")
		})
		se.Router.GET("/test/sqlerror", func(e *core.RequestEvent) error {
			_, err := e.App.DB().NewQuery("SELECT nope FROM no_such_table").Execute()
			return e.InternalServerError("", err)
		})
		return se.Next()
	})
	base := testapp.Serve(t, app)
	for _, path := range []string{"/test/panic", "/test/sqlerror"} {
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		res, err := hardeningClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		body := string(raw)
		if res.StatusCode != 500 || !strings.Contains(body, `"status":500`) {
			t.Fatalf("GET %s: %d %s", path, res.StatusCode, body)
		}
		for _, leak := range []string{"SELECT", "no_such_table", "sqlite", "/work/", ".go:", "goroutine", "panic"} {
			if strings.Contains(body, leak) {
				t.Errorf("GET %s leaks %q: %s", path, leak, body)
			}
		}
	}
}
