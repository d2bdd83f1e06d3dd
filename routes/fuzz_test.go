package routes_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/pocketbase/pocketbase/apis"
	"github.com/pocketbase/pocketbase/core"

	"ticketportal/testapp"
)

// Fuzz tests: each custom route gets random bodies (and content types),
// query strings or path ids from the fuzzer, seeded with valid and hostile
// inputs. The portal must never answer with a 5xx (a panic is recovered by
// PocketBase into a 500, so it counts too), and an error must be
// PocketBase's error body without the server's internals.
//
//	go test ./routes -run '^$' -fuzz '^FuzzSendTicket$' -fuzztime 10s
//	make fuzz FUZZTIME=2s   # every target in turn

// fuzzHandler builds the portal's real router (routes, hooks, middlewares)
// on a fresh test app, without a network, and with throttling off: the
// fuzzer sends thousands of requests from one address.
func fuzzHandler(f *testing.F) http.Handler {
	f.Helper()
	app := testapp.New(f)
	f.Cleanup(app.Cleanup)
	app.Settings().RateLimits.Enabled = false
	r, err := apis.NewRouter(app)
	if err != nil {
		f.Fatal(err)
	}
	var mux http.Handler
	err = app.OnServe().Trigger(&core.ServeEvent{App: app, Router: r}, func(e *core.ServeEvent) error {
		m, err := e.Router.BuildMux()
		mux = m
		return err
	})
	if err != nil {
		f.Fatal(err)
	}
	return mux
}

// serveFuzz sends one request to h and checks the answer.
func serveFuzz(t *testing.T, h http.Handler, method, target, token, contentType, body string) {
	u, err := url.ParseRequestURI(target)
	if err != nil {
		return // not a request a client can send
	}
	req := httptest.NewRequest(method, "/", strings.NewReader(body))
	req.URL, req.RequestURI = u, target
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	checkErrorAnswer(t, method+" "+target, rec.Code, rec.Body.String(), target+"\n"+body)
}

// fuzzBody fuzzes the body and content type of one route of bodyRoutes.
func fuzzBody(f *testing.F, method, path, caller string, seeds ...string) {
	var route bodyRoute
	for _, r := range bodyRoutes {
		if r.method == method && r.path == path && r.caller == caller {
			route = r
		}
	}
	if route.path == "" {
		f.Fatalf("%s %s as %s is not in bodyRoutes", method, path, caller)
	}
	h := fuzzHandler(f)
	token := testapp.Token(f, route.caller)
	f.Add("application/json", "")
	f.Add("application/json", "{}")
	for _, s := range seeds {
		f.Add("application/json", s)
	}
	for _, c := range hostileBodies(route.fields) {
		if len(c.body) <= 70<<10 {
			f.Add(c.contentType, c.body)
		}
	}
	f.Fuzz(func(t *testing.T, contentType, body string) {
		serveFuzz(t, h, route.method, route.path, token, contentType, body)
	})
}

func FuzzSignUp(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/signUp", testapp.Anonymous,
		`{"email":"fuzz@example.com","userName":"fuzzer","password":"fuzz-password-1","confirmPassword":"fuzz-password-1","userFirstName":"Fuzz","userLastName":"Er","mobileNumber":"+1 555 0100"}`,
		`{"email":"alice@example.com","userName":"ALICE","password":"x","confirmPassword":"y","userFirstName":"","userLastName":"","mobileNumber":"abc"}`)
}

func FuzzResendVerification(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/resendVerification", testapp.Anonymous, `{"email":"carol@example.com"}`, `{"email":"nobody@example.com"}`)
}

func FuzzLogin(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/login", testapp.Anonymous,
		`{"userName":"alice","password":"wrong-password-1"}`,
		`{"userName":"agent1@example.com","password":"wrong-password-1","role":"admin"}`,
		`{"userName":"carol","password":"x","role":"superAdmin"}`)
}

func FuzzEditProfileCustomer(f *testing.F) {
	fuzzBody(f, http.MethodPatch, "/editProfile", testapp.Owner,
		`{"userFirstName":"Alicia","mobileNumber":"+44 20 7946 0000"}`,
		`{"userName":"bob","email":"bob@example.com"}`)
}

func FuzzEditProfileAgent(f *testing.F) {
	fuzzBody(f, http.MethodPatch, "/editProfile", testapp.Admin, `{"userName":"agent-one"}`, `{"email":"not-an-email","userFirstName":"x"}`)
}

func FuzzConfirmEmailChange(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/confirmEmailChange", testapp.Anonymous, `{"token":"a.b.c","password":"correct-horse-1"}`)
}

func FuzzChangePassword(f *testing.F) {
	fuzzBody(f, http.MethodPatch, "/changePassword", testapp.Owner,
		`{"oldPassword":"wrong-password-1","password":"new-password-1","confirmPassword":"new-password-1"}`,
		`{"oldPassword":"x","password":"short","confirmPassword":"other"}`)
}

func FuzzForgetPassword(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/forgetPassword", testapp.Anonymous, `{"email":"alice@example.com"}`, `{"email":"nobody@example.com"}`)
}

func FuzzResetPassword(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/resetPassword", testapp.Anonymous,
		`{"token":"eyJhbGciOiJIUzI1NiJ9.e30.x","password":"new-password-1","confirmPassword":"new-password-1"}`)
}

func FuzzSendTicket(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/sendTicket", testapp.Owner,
		`{"ticketContent":"My printer is on fire."}`,
		`{"ticketContent":"   ","customerFirstName":"","customerLastName":"x"}`)
}

func FuzzSendAnswerOnTicket(f *testing.F) {
	fuzzBody(f, http.MethodPatch, "/sendAnswerOnTicket/"+testapp.TicketId, testapp.Admin, `{"answer":"Please restart it."}`, `{"answer":""}`)
}

func FuzzDeleteSpecificTicket(f *testing.F) {
	fuzzBody(f, http.MethodDelete, "/deleteSpecificTicket/"+testapp.TicketId, testapp.SuperAdmin, `{"ticketId":"x"}`)
}

func FuzzMarkTicketStatus(f *testing.F) {
	fuzzBody(f, http.MethodPatch, "/markTicketStatus/"+testapp.TicketId, testapp.Admin, `{"status":"markAsTaken"}`, `{"status":"markAsClosed"}`, `{"status":"closed"}`)
}

func FuzzMarkAsHighPriority(f *testing.F) {
	fuzzBody(f, http.MethodPatch, "/markAsHighPriority/"+testapp.TicketId, testapp.SuperAdmin, `{"isHighPriority":true}`)
}

func FuzzCreateAdmin(f *testing.F) {
	fuzzBody(f, http.MethodPost, "/createAdmin", testapp.SuperAdmin,
		`{"email":"agent9@example.com","userName":"agent9","password":"agent-password-1"}`,
		`{"email":"agent1@example.com","userName":"boss","password":"x"}`)
}

func FuzzDeleteAdmin(f *testing.F) {
	fuzzBody(f, http.MethodDelete, "/deleteAdmin", testapp.SuperAdmin, `{"adminId":"admin0000000009"}`, `{"adminId":"`+testapp.SuperAdminId+`"}`)
}

// FuzzListQuery fuzzes the query of the list routes (page, limit).
func FuzzListQuery(f *testing.F) {
	h := fuzzHandler(f)
	routes := []struct{ path, caller string }{
		{"/getUserTickets", testapp.Owner},
		{"/getAllActiveTickets", testapp.Admin},
		{"/getAllClosedTickets", testapp.SuperAdmin},
		{"/getAllAdmins", testapp.SuperAdmin},
	}
	tokens := make([]string, len(routes))
	for i, r := range routes {
		tokens[i] = testapp.Token(f, r.caller)
	}
	for i := range routes {
		for _, q := range []string{"", "page=1&limit=10", "page=2&limit=1", "limit=1000", "page=abc", "page=-1", "page=9223372036854775807&limit=100", "page=%00", "page=1&page=2"} {
			f.Add(uint8(i), q)
		}
	}
	f.Fuzz(func(t *testing.T, i uint8, query string) {
		if strings.ContainsAny(query, " \t\r\n#") {
			return // not in a request line
		}
		r := routes[int(i)%len(routes)]
		serveFuzz(t, h, http.MethodGet, r.path+"?"+query, tokens[int(i)%len(routes)], "", "")
	})
}

// FuzzTicketPath fuzzes the ticket id in the path of the ticket routes.
func FuzzTicketPath(f *testing.F) {
	h := fuzzHandler(f)
	routes := []struct{ method, path, caller, body string }{
		{http.MethodGet, "/searchForTicket/", testapp.SuperAdmin, ""},
		{http.MethodPatch, "/sendAnswerOnTicket/", testapp.Admin, `{"answer":"hi"}`},
		{http.MethodPatch, "/markTicketStatus/", testapp.Admin, `{"status":"markAsTaken"}`},
		{http.MethodPatch, "/markAsHighPriority/", testapp.SuperAdmin, ""},
	}
	tokens := make([]string, len(routes))
	for i, r := range routes {
		tokens[i] = testapp.Token(f, r.caller)
	}
	for i := range routes {
		for _, id := range []string{testapp.TicketId, testapp.ClosedTicketId, "nope", "' OR 1=1 --", "%00", strings.Repeat("a", 300), "..%2f..%2f"} {
			f.Add(uint8(i), id)
		}
	}
	f.Fuzz(func(t *testing.T, i uint8, id string) {
		r := routes[int(i)%len(routes)]
		serveFuzz(t, h, r.method, r.path+url.PathEscape(id), tokens[int(i)%len(routes)], "application/json", r.body)
	})
}
