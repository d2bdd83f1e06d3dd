package routes_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/tests"

	"ticketportal/testapp"
)

// hardeningClient fails a request that hangs instead of the whole package.
var hardeningClient = &http.Client{Timeout: 30 * time.Second}

// bodyRoute is a custom route that reads a JSON body, with a caller who may
// use it (so that the body is read) and the body's fields.
type bodyRoute struct {
	method, path, caller string
	fields               []string
}

// bodyRoutes lists every custom route that reads a JSON body.
var bodyRoutes = []bodyRoute{
	{http.MethodPost, "/signUp", testapp.Anonymous, []string{"email", "userName", "password", "confirmPassword", "userFirstName", "userLastName", "mobileNumber"}},
	{http.MethodPost, "/resendVerification", testapp.Anonymous, []string{"email"}},
	{http.MethodPost, "/login", testapp.Anonymous, []string{"userName", "password", "role"}},
	{http.MethodPatch, "/editProfile", testapp.Owner, []string{"userName", "email", "userFirstName", "userLastName", "mobileNumber"}},
	{http.MethodPatch, "/editProfile", testapp.Admin, []string{"userName", "email"}},
	{http.MethodPost, "/confirmEmailChange", testapp.Anonymous, []string{"token", "password"}},
	{http.MethodPatch, "/changePassword", testapp.Owner, []string{"oldPassword", "password", "confirmPassword"}},
	{http.MethodPost, "/forgetPassword", testapp.Anonymous, []string{"email"}},
	{http.MethodPost, "/resetPassword", testapp.Anonymous, []string{"token", "password", "confirmPassword"}},
	{http.MethodPost, "/sendTicket", testapp.Owner, []string{"ticketContent", "customerFirstName", "customerLastName"}},
	{http.MethodPatch, "/sendAnswerOnTicket/" + testapp.TicketId, testapp.Admin, []string{"answer"}},
	{http.MethodDelete, "/deleteSpecificTicket/" + testapp.TicketId, testapp.SuperAdmin, nil},
	{http.MethodPatch, "/markTicketStatus/" + testapp.TicketId, testapp.Admin, []string{"status"}},
	{http.MethodPatch, "/markAsHighPriority/" + testapp.TicketId, testapp.SuperAdmin, nil},
	{http.MethodPost, "/createAdmin", testapp.SuperAdmin, []string{"email", "userName", "password"}},
	{http.MethodDelete, "/deleteAdmin", testapp.SuperAdmin, []string{"adminId"}},
}

// hostileBody is one malformed request: its body, content type (default
// application/json), the status it must get (0: any 4xx) and a text the
// answer must hold.
type hostileBody struct {
	name, body, contentType string
	status                  int
	contains                string
}

// hostileBodies are the malformed bodies every route must refuse.
func hostileBodies(fields []string) []hostileBody {
	field := "x"
	if len(fields) > 0 {
		field = fields[0]
	}
	deep := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	cases := []hostileBody{
		{name: "array", body: `[]`, status: 400},
		{name: "array of objects", body: `[{"a":1}]`, status: 400},
		{name: "string", body: `"hello"`, status: 400},
		{name: "number", body: `42`, status: 400},
		{name: "null", body: `null`, status: 400},
		{name: "boolean", body: `true`, status: 400},
		{name: "truncated", body: `{"` + field + `":`, status: 400},
		{name: "two objects", body: `{}{}`, status: 400},
		{name: "trailing garbage", body: `{} x`, status: 400},
		{name: "single quotes", body: `{'` + field + `':'x'}`, status: 400},
		{name: "comment", body: `{/* hi */}`, status: 400},
		{name: "unknown field", body: `{"isAdmin":true}`, status: 400, contains: "validation_unknown_field"},
		{name: "role escalation", body: `{"role":"superAdmin","verified":true,"isVerified":true,"customerId":"` + testapp.OtherCustomerId + `"}`, status: 400},
		{name: "field in another case", body: `{"` + strings.ToUpper(field) + `":"x"}`, status: 400},
		{name: "prototype pollution", body: `{"__proto__":{"role":"superAdmin"},"constructor":{"prototype":{}}}`, status: 400},
		{name: "deep nesting", body: `{"` + field + `":` + deep + `}`, status: 400},
		{name: "nested unknown", body: `{"a":{"b":{"c":{"d":{}}}}}`, status: 400},
		{name: "raw NUL byte", body: "{\"" + field + "\":\"a\x00b\"}", status: 400},
		{name: "NUL outside strings", body: "{\x00}", status: 400},
		{name: "escaped NUL", body: `{"` + field + `":"a\u0000b"}`, status: 400},
		{name: "invalid UTF-8", body: "{\"" + field + "\":\"\xff\xfe\"}", status: 400},
		{name: "lone surrogate", body: `{"` + field + `":"\ud800"}`, status: 400},
		{name: "byte order mark", body: "\xef\xbb\xbf{}", status: 400},
		{name: "64 KiB + 1", body: `{"` + field + `":"` + strings.Repeat("a", 64<<10) + `"}`, status: 413},
		{name: "1 MiB", body: `{"` + field + `":"` + strings.Repeat("a", 1<<20) + `"}`, status: 413},
		{name: "text/plain", body: `{}`, contentType: "text/plain", status: 415},
		{name: "form", body: field + `=x`, contentType: "application/x-www-form-urlencoded", status: 415},
		{name: "multipart", body: "--b\r\nContent-Disposition: form-data; name=\"" + field + "\"\r\n\r\nx\r\n--b--\r\n", contentType: "multipart/form-data; boundary=b", status: 415},
		{name: "xml", body: `<x/>`, contentType: "application/xml", status: 415},
		{name: "UTF-16 JSON", body: `{}`, contentType: "application/json; charset=utf-16", status: 415},
		{name: "malformed content type", body: `{}`, contentType: "application/json; ;;=", status: 415},
	}
	if len(fields) > 0 {
		cases = append(cases, hostileBody{name: "duplicate field", body: `{"` + field + `":"a","` + field + `":"b"}`, status: 400})
	}
	for _, f := range fields {
		for _, v := range []struct{ name, value string }{
			{"a number", `1`},
			{"a huge number", `1e400`},
			{"a boolean", `false`},
			{"a list", `["a"]`},
			{"an object", `{"$ne":""}`},
		} {
			cases = append(cases, hostileBody{name: f + " as " + v.name, body: `{"` + f + `":` + v.value + `}`, status: 400, contains: "validation_invalid_type"})
		}
		cases = append(cases,
			hostileBody{name: f + " as null", body: `{"` + f + `":null}`},
			hostileBody{name: f + " of 30,000 characters", body: `{"` + f + `":"` + strings.Repeat("é", 30000) + `"}`},
			hostileBody{name: f + " with NUL", body: `{"` + f + `":"x\u0000"}`, status: 400, contains: "validation_invalid_characters"},
		)
	}
	return cases
}

// internalLeaks are texts no answer may hold: internals of the server.
var internalLeaks = []string{"sqlite", "SQL logic", "SELECT ", "INSERT ", "goroutine ", "panic", ".go:", "/work/", "/root/", "/tmp/", "$2a$", "tokenKey", "runtime error"}

// hostileCall sends one request to a served app.
func hostileCall(t testing.TB, method, url, token, contentType, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := hardeningClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

// checkErrorAnswer checks an answer to a hostile request (sent): never a
// 5xx; an error is PocketBase's error body with the same status; no answer
// holds the server's internals (unless the request itself said them, as
// an error may name the field it refuses) nor a password hash.
func checkErrorAnswer(t testing.TB, what string, status int, body, sent string) {
	t.Helper()
	if status >= 500 {
		t.Errorf("%s: %d %.300s", what, status, body)
		return
	}
	for _, leak := range internalLeaks {
		always := leak == "$2a$" || leak == "tokenKey"
		if (status >= 400 || always) && strings.Contains(body, leak) && !strings.Contains(sent, leak) {
			t.Errorf("%s: the answer leaks %q: %.300s", what, leak, body)
		}
	}
	if status < 400 {
		return
	}
	var e struct {
		Status  int             `json:"status"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Status != status || e.Message == "" || len(e.Data) == 0 {
		t.Errorf("%s: not PocketBase's error body for %d: %.300s", what, status, body)
	}
}

// serveUnthrottled serves a fresh app whose loopback client is not rate
// limited: these tests send far more requests than a person would.
func serveUnthrottled(t testing.TB) (*tests.TestApp, string) {
	t.Helper()
	app := testapp.New(t)
	app.Settings().RateLimits.ExcludedIPs = []string{"127.0.0.1"}
	return app, testapp.Serve(t, app)
}

func TestHostileBodiesOnEveryRoute(t *testing.T) {
	for _, r := range bodyRoutes {
		t.Run(r.method+" "+r.path+" as "+r.caller, func(t *testing.T) {
			_, base := serveUnthrottled(t)
			token := testapp.Token(t, r.caller)
			for _, c := range hostileBodies(r.fields) {
				if c.name == "multipart" && takesFiles(r.path) {
					// these routes read forms; a hostile form is one
					// with an unknown field, or one that is not multipart at all
					c.body = strings.Replace(c.body, `name="`, `name="zz`, 1)
					c.status = 400
				}
				ct := c.contentType
				if ct == "" {
					ct = "application/json"
				}
				status, body := hostileCall(t, r.method, base+r.path, token, ct, c.body)
				what := fmt.Sprintf("%s %s with %s", r.method, r.path, c.name)
				checkErrorAnswer(t, what, status, body, c.body)
				nullField := strings.HasSuffix(c.name, " as null") // may be accepted: never a 5xx
				if c.status != 0 && status != c.status {
					t.Errorf("%s: %d, want %d: %.300s", what, status, c.status, body)
				}
				if c.status == 0 && !nullField && (status < 400 || status >= 500) {
					t.Errorf("%s: %d, want a 4xx: %.300s", what, status, body)
				}
				if c.contains != "" && !strings.Contains(body, c.contains) {
					t.Errorf("%s: the answer does not say %s: %.300s", what, c.contains, body)
				}
			}
		})
	}
}

// A body of exactly 64 KiB is read (the limit is not one byte short).
func TestBodyOfExactly64KiBIsRead(t *testing.T) {
	_, base := serveUnthrottled(t)
	body := `{"ticketContent":"x"}`
	body += strings.Repeat(" ", 64<<10-len(body))
	status, raw := hostileCall(t, http.MethodPost, base+"/sendTicket", testapp.Token(t, testapp.Owner), "application/json", body)
	if status != http.StatusCreated {
		t.Fatalf("a 64 KiB body: %d %s", status, raw)
	}
}

// takesFiles says whether a route reads multipart/form-data with files.
func takesFiles(path string) bool {
	for _, p := range []string{"/sendTicket", "/replyOnTicket/", "/sendAnswerOnTicket/", "/addNoteOnTicket/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}
