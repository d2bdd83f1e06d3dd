package routes_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tests"
	"github.com/pocketbase/pocketbase/tools/mailer"
	"github.com/pocketbase/pocketbase/tools/router"

	"ticketportal/policy"
	"ticketportal/testapp"
)

// callerWant is what one kind of caller gets back from a route.
type callerWant struct {
	status  int
	content []string
	absent  []string
	events  map[string]int
	check   func(t testing.TB, app *tests.TestApp, body []byte)
	html    bool // a page, whose form may have a field named "password"
	headers func(t testing.TB, h http.Header, body []byte)
}

// callerKinds are the caller kinds, in the order the tables run them.
var callerKinds = []string{testapp.Anonymous, testapp.Forged, testapp.Owner, testapp.OtherCustomer,
	testapp.Unverified, testapp.Admin, "other admin", testapp.SuperAdmin, testapp.Operator}

// acctLeaks never appear in an answer.
var acctLeaks = []string{`"password"`, `"tokenKey"`, `$2a$`, `sqlite`, `SELECT `, `.go:`}

// acctNoWrites: a refused request writes nothing (a save that validation
// refuses may start, but never succeeds).
var acctNoWrites = map[string]int{"OnRecordAfterCreateSuccess": 0, "OnRecordAfterUpdateSuccess": 0, "OnRecordAfterDeleteSuccess": 0}

// asCallers runs one request once per caller kind in wants; every standard
// kind (testapp.Callers) must be named. before prepares each fresh app.
func asCallers(t *testing.T, name, method, url, body string, before func(testing.TB, *tests.TestApp), wants map[string]callerWant) {
	t.Helper()
	for _, kind := range testapp.Callers {
		if _, ok := wants[kind]; !ok {
			t.Errorf("%s: no expectation for caller %q", name, kind)
		}
	}
	for _, kind := range callerKinds {
		w, ok := wants[kind]
		if !ok {
			continue
		}
		acctRun(t, kind+" "+name, method, url, body, testapp.Headers(t, kind), before, w)
	}
}

// acctRun runs one scenario against a fresh test app.
func acctRun(t *testing.T, name, method, url, body string, headers map[string]string, before func(testing.TB, *tests.TestApp), w callerWant) {
	t.Helper()
	leaks := acctLeaks
	if w.status >= 400 || w.html {
		leaks = acctLeaks[1:] // error bodies and forms may name the field "password"
	}
	s := tests.ApiScenario{
		Name:               name,
		Method:             method,
		URL:                url,
		Headers:            headers,
		ExpectedStatus:     w.status,
		ExpectedContent:    w.content,
		NotExpectedContent: append(append([]string{}, leaks...), w.absent...),
		ExpectedEvents:     w.events,
		TestAppFactory:     testapp.Factory,
	}
	if len(s.ExpectedContent) == 0 {
		s.ExpectedContent = []string{`"message":`}
	}
	if body != "" {
		s.Body = strings.NewReader(body)
	}
	s.BeforeTestFunc = func(t testing.TB, app *tests.TestApp, e *core.ServeEvent) {
		app.Store().Set(acctRouterKey, e.Router) // for acctServe
		if before != nil {
			before(t, app)
		}
	}
	if w.check != nil || w.headers != nil {
		s.AfterTestFunc = func(t testing.TB, app *tests.TestApp, res *http.Response) {
			raw, err := io.ReadAll(res.Body)
			if err != nil {
				t.Fatal(err)
			}
			if w.headers != nil {
				w.headers(t, res.Header, raw)
			}
			if w.check != nil {
				w.check(t, app, raw)
			}
		}
	}
	s.Test(t)
}

// acctChecks runs several checks in turn.
func acctChecks(checks ...func(testing.TB, *tests.TestApp, []byte)) func(testing.TB, *tests.TestApp, []byte) {
	return func(t testing.TB, app *tests.TestApp, body []byte) {
		t.Helper()
		for _, c := range checks {
			c(t, app, body)
		}
	}
}

// acctFieldCodes checks that the error body names exactly these fields with
// these codes.
func acctFieldCodes(want map[string]string) func(testing.TB, *tests.TestApp, []byte) {
	return func(t testing.TB, _ *tests.TestApp, body []byte) {
		t.Helper()
		var b struct {
			Data map[string]struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"data"`
		}
		if err := json.Unmarshal(body, &b); err != nil {
			t.Fatalf("not an error body: %v\n%s", err, body)
		}
		for field, code := range want {
			got, ok := b.Data[field]
			if !ok || got.Code != code {
				t.Errorf("data.%s = %+v, want code %s (body %s)", field, got, code, body)
			}
			if ok && got.Message == "" {
				t.Errorf("data.%s has no message", field)
			}
		}
		for field := range b.Data {
			if _, ok := want[field]; !ok {
				t.Errorf("data names %s too (body %s)", field, body)
			}
		}
	}
}

// acctField checks one field of a stored account.
func acctField(collection, id, field string, want any) func(testing.TB, *tests.TestApp, []byte) {
	return func(t testing.TB, app *tests.TestApp, _ []byte) {
		t.Helper()
		r, err := app.FindRecordById(collection, id)
		if err != nil {
			t.Fatalf("%s %s: %v", collection, id, err)
		}
		if got := r.Get(field); got != want {
			t.Errorf("%s %s: %s = %#v, want %#v", collection, id, field, got, want)
		}
	}
}

// acctMailTo waits for a mail to addr whose subject contains subject in the
// test app's mailer and returns it.
func acctMailTo(t testing.TB, app *tests.TestApp, addr, subject string) *mailer.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, m := range app.TestMailer.Messages() {
			if len(m.To) > 0 && strings.EqualFold(m.To[0].Address, addr) && strings.Contains(m.Subject, subject) {
				return m
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mail to %s with subject %q (mails: %d)", addr, subject, app.TestMailer.TotalSend())
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// acctMailsTo counts the mails to addr that arrived so far.
func acctMailsTo(app *tests.TestApp, addr string) int {
	n := 0
	for _, m := range app.TestMailer.Messages() {
		if len(m.To) > 0 && strings.EqualFold(m.To[0].Address, addr) {
			n++
		}
	}
	return n
}

// acctNoMailTo checks that addr got no mail: it causes a mail to another
// account afterwards and waits for it, since mail goes out in order.
func acctNoMailTo(t testing.TB, app *tests.TestApp, addr string) {
	t.Helper()
	other := "bob@example.com"
	if strings.EqualFold(addr, other) {
		other = "alice@example.com"
	}
	acctSentinel(t, app, other)
	if n := acctMailsTo(app, addr); n != 0 {
		t.Errorf("%d mail(s) went to %s", n, addr)
	}
}

// acctSentinel asks for a reset mail to addr and waits for it.
func acctSentinel(t testing.TB, app *tests.TestApp, addr string) {
	t.Helper()
	if status, body := acctServe(t, app, http.MethodPost, "/forgetPassword", `{"email":"`+addr+`"}`); status != 200 {
		t.Fatalf("sentinel request: %d %s", status, body)
	}
	acctMailTo(t, app, addr, "reset your password")
}

const acctRouterKey = "test:acctRouter"

// acctServe makes one more request, inside an acctRun scenario's checks,
// through the scenario's own router.
func acctServe(t testing.TB, app *tests.TestApp, method, path, body string) (int, []byte) {
	t.Helper()
	r, ok := app.Store().Get(acctRouterKey).(*router.Router[*core.RequestEvent])
	if !ok {
		t.Fatal("acctServe works inside acctRun scenarios only")
	}
	mux, err := r.BuildMux()
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	mux.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// acctOnePage checks the shape of a server-rendered page: one h1, the
// shared stylesheet, a way back to the portal.
func acctOnePage(t testing.TB, _ *tests.TestApp, body []byte) {
	t.Helper()
	page := string(body)
	if n := strings.Count(page, "<h1"); n != 1 {
		t.Errorf("%d h1 elements", n)
	}
	for _, want := range []string{`<html lang="en">`, `<link rel="stylesheet" href="/style.css">`, `<a href="/">`, `<main>`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %s", want)
		}
	}
}

// acctScriptAllowed checks that the page's inline script may run under the
// page's Content-Security-Policy (allowed by its hash) and that the policy
// still allows no other inline script.
func acctScriptAllowed(t testing.TB, h http.Header, body []byte) {
	t.Helper()
	page := string(body)
	start, end := strings.Index(page, "<script>"), strings.Index(page, "</script>")
	if start < 0 || end < start {
		t.Fatal("the page has no inline script")
	}
	sum := sha256.Sum256([]byte(page[start+len("<script>") : end]))
	csp := h.Get("Content-Security-Policy")
	if !strings.Contains(csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") {
		t.Errorf("the policy does not allow the page's script: %s", csp)
	}
	if strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("the policy is too wide: %s", csp)
	}
	if h.Get("Cache-Control") != "no-store" || h.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("a page with a token may be cached or sent on: %v", h)
	}
}

// acctJSON encodes v.
func acctJSON(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(raw)
}

var acctLinkPattern = regexp.MustCompile(`https?://[^\s"'<>]+\?token=[A-Za-z0-9._%-]+`)

// acctLink returns the link to path found in a mail's text part, and its token.
func acctLink(t testing.TB, text, path string) (string, string) {
	t.Helper()
	for _, link := range acctLinkPattern.FindAllString(text, -1) {
		if strings.Contains(link, path+"?token=") {
			return link, link[strings.Index(link, "?token=")+len("?token="):]
		}
	}
	t.Fatalf("no %s link in mail:\n%s", path, text)
	return "", ""
}

// acctRecord loads a fixture account.
func acctRecord(t testing.TB, app core.App, collection, id string) *core.Record {
	t.Helper()
	r, err := app.FindRecordById(collection, id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// acctToken mints a token of the given kind for a fixture account.
func acctToken(t testing.TB, app core.App, collection, id, kind string, newEmail ...string) string {
	t.Helper()
	r := acctRecord(t, app, collection, id)
	var tok string
	var err error
	switch kind {
	case core.TokenTypeAuth:
		tok, err = r.NewAuthToken()
	case core.TokenTypeVerification:
		tok, err = r.NewVerificationToken()
	case core.TokenTypePasswordReset:
		tok, err = r.NewPasswordResetToken()
	case core.TokenTypeEmailChange:
		tok, err = r.NewEmailChangeToken(newEmail[0])
	}
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// acctTokenWorks reports whether tok is a live auth token of an account of
// collection, by the check PocketBase makes on every request.
func acctTokenWorks(t testing.TB, app *tests.TestApp, collection, tok string) bool {
	t.Helper()
	r, err := app.FindAuthRecordByToken(tok, core.TokenTypeAuth)
	return err == nil && r.Collection().Name == collection
}

// acctCall makes one request against a served app and decodes the JSON answer.
func acctCall(t testing.TB, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	out["_raw"] = string(raw)
	return res.StatusCode, out
}

// acctPage fetches a page of a served app.
func acctPage(t testing.TB, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

// acctFixtureEmail is the email of a fixture account id.
var acctFixtureEmail = map[string]string{
	testapp.CustomerId: "alice@example.com", testapp.OtherCustomerId: "bob@example.com",
	testapp.UnverifiedId: "carol@example.com", testapp.AdminId: "agent1@example.com",
	testapp.OtherAdminId: "agent2@example.com", testapp.SuperAdminId: "boss@example.com",
}

// acctCollectionOf names the collection of a fixture account id.
func acctCollectionOf(id string) string {
	if strings.HasPrefix(id, "admin") {
		return policy.Admins
	}
	return policy.Users
}

// acctIdOf is the fixture account of each signed-in caller kind.
var acctIdOf = map[string]string{
	testapp.Owner: testapp.CustomerId, testapp.OtherCustomer: testapp.OtherCustomerId,
	testapp.Unverified: testapp.UnverifiedId, testapp.Admin: testapp.AdminId,
	"other admin": testapp.OtherAdminId, testapp.SuperAdmin: testapp.SuperAdminId,
}
