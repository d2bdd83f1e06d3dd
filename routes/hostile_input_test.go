package routes_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"ticketportal/testapp"
)

// Hostile query strings on the list routes: a clear 4xx or a page, never
// a 5xx.
func TestHostileQueriesOnListRoutes(t *testing.T) {
	_, base := serveUnthrottled(t)
	for _, r := range []struct{ path, caller string }{
		{"/getUserTickets", testapp.Owner},
		{"/getAllActiveTickets", testapp.Admin},
		{"/getAllClosedTickets", testapp.SuperAdmin},
		{"/getAllAdmins", testapp.SuperAdmin},
	} {
		token := testapp.Token(t, r.caller)
		for query, want := range map[string]int{
			"page=abc":                           400,
			"page=-1":                            400,
			"page=0":                             400,
			"limit=0":                            400,
			"limit=-5":                           400,
			"page=1.5":                           400,
			"page=1e3":                           400,
			"page=%00":                           400,
			"page=%27%20OR%201=1--":              400,
			"page=99999999999999999999":          0,
			"page=9223372036854775807&limit=100": 0,
			"page=4611686018427387904&limit=100": 0,
			"limit=100000":                       200,
			"page=1&page=2":                      0,
			"page=&limit=":                       0,
			"page[]=1":                           0,
			"page=%E2%80%AE1":                    400,
		} {
			status, body := hostileCall(t, http.MethodGet, base+r.path+"?"+query, token, "", "")
			what := "GET " + r.path + "?" + query
			checkErrorAnswer(t, what, status, body, query)
			if want != 0 && status != want {
				t.Errorf("%s: %d, want %d: %.300s", what, status, want, body)
			}
			if want == 0 && status != 200 && status != 400 {
				t.Errorf("%s: %d, want a page or 400: %.300s", what, status, body)
			}
		}
	}
}

// Hostile ticket ids in the path name no ticket: 404, never a 5xx.
func TestHostileTicketIdsInThePath(t *testing.T) {
	_, base := serveUnthrottled(t)
	ids := []string{
		"' OR 1=1 --",
		testapp.TicketId + "'",
		testapp.TicketId + " ",
		strings.ToUpper(testapp.TicketId),
		"<script>alert(1)</script>",
		"{{.AppName}}",
		"тикет",
		"\u202eevil",
		strings.Repeat("a", 2000),
		"%00",
		"*",
		"null",
	}
	for _, r := range []struct{ method, path, caller, body string }{
		{http.MethodGet, "/searchForTicket/", testapp.SuperAdmin, ""},
		{http.MethodPatch, "/sendAnswerOnTicket/", testapp.Admin, `{"answer":"hi"}`},
		{http.MethodPatch, "/markTicketStatus/", testapp.Admin, `{"status":"markAsTaken"}`},
		{http.MethodPatch, "/markAsHighPriority/", testapp.SuperAdmin, ""},
		{http.MethodDelete, "/deleteSpecificTicket/", testapp.SuperAdmin, ""},
	} {
		token := testapp.Token(t, r.caller)
		for _, id := range ids {
			status, body := hostileCall(t, r.method, base+r.path+url.PathEscape(id), token, "application/json", r.body)
			what := r.method + " " + r.path + id
			checkErrorAnswer(t, what, status, body, id)
			if status != http.StatusNotFound {
				t.Errorf("%s: %d, want 404: %.300s", what, status, body)
			}
		}
	}
	// the same for an admin id, in the body or the query
	token := testapp.Token(t, testapp.SuperAdmin)
	for _, id := range ids {
		raw, _ := json.Marshal(map[string]string{"adminId": id})
		status, body := hostileCall(t, http.MethodDelete, base+"/deleteAdmin", token, "application/json", string(raw))
		checkErrorAnswer(t, "DELETE /deleteAdmin "+id, status, body, id)
		if status != http.StatusNotFound && status != http.StatusBadRequest {
			t.Errorf("DELETE /deleteAdmin with adminId %q: %d: %.300s", id, status, body)
		}
		status, body = hostileCall(t, http.MethodDelete, base+"/deleteAdmin?adminId="+url.QueryEscape(id), token, "", "")
		checkErrorAnswer(t, "DELETE /deleteAdmin?adminId="+id, status, body, id)
		if status != http.StatusNotFound && status != http.StatusBadRequest {
			t.Errorf("DELETE /deleteAdmin?adminId=%q: %d: %.300s", id, status, body)
		}
	}
}

// The pages behind the mailed links escape whatever token they are given.
func TestHostileTokensOnThePages(t *testing.T) {
	_, base := serveUnthrottled(t)
	for _, token := range []string{
		`<script>alert(1)</script>`,
		`"><img src=x onerror=alert(1)>`,
		`javascript:alert(1)`,
		`{{.AppName}}{{template "layout"}}`,
		strings.Repeat("x", 5000),
		"\x00",
		"",
	} {
		for _, path := range []string{"/verifyAccount", "/resetPassword", "/confirmEmailChange"} {
			status, body := hostileCall(t, http.MethodGet, base+path+"?token="+url.QueryEscape(token), "", "", "")
			what := "GET " + path + " with token " + token[:min(len(token), 40)]
			if status >= 500 || status < 400 {
				t.Errorf("%s: %d, want a 4xx page", what, status)
			}
			for _, raw := range []string{`<script>alert(1)</script>`, `<img src=x onerror`, `href="javascript:`, "Ticket Portal{{"} {
				if strings.Contains(body, raw) {
					t.Errorf("%s: the page holds %q unescaped", what, raw)
				}
			}
			for _, leak := range internalLeaks {
				if strings.Contains(body, leak) {
					t.Errorf("%s: the page leaks %q", what, leak)
				}
			}
		}
	}
}

// hostileText is what customers and agents may type: it is stored and
// returned exactly, and escaped wherever it is rendered.
var hostileText = strings.Join([]string{
	`Robert'); DROP TABLE tickets;-- " OR ""="`,
	`<script>alert("x")</script><img src=x onerror=alert(1)>`,
	`{{.AppName}} {{template "layout" .}} ${7*7} <%= 7*7 %> #{7*7} %s %d %n`,
	"\u202egnp.exe\u202c \u200f\u200e right-to-left",
	"🎫 👩‍💻 🏳️‍🌈 emoji, Z̷̢̛a̶l̵g̴o̶, 漢字",
	`back\slash "quote" ../../etc/passwd`,
	"line\nbreak\ttab",
}, "\n")

func TestHostileTextIsKeptVerbatimAndEscapedInMail(t *testing.T) {
	app, base := serveUnthrottled(t)
	srv := testapp.StartSMTP(t)
	srv.Use(t, app)
	owner, admin := testapp.Token(t, testapp.Owner), testapp.Token(t, testapp.Admin)

	// (a name may not hold format characters such as U+202E: docs/validation.md)
	name := `<b>Eve</b> {{.V}} ${7*7}`
	body, _ := json.Marshal(map[string]string{"ticketContent": hostileText, "customerFirstName": name})
	status, raw := hostileCall(t, http.MethodPost, base+"/sendTicket", owner, "application/json", string(body))
	if status != http.StatusCreated {
		t.Fatalf("sendTicket: %d %s", status, raw)
	}
	var sent struct {
		TicketId string `json:"ticketId"`
		Data     struct {
			TicketContent     string `json:"ticketContent"`
			CustomerFirstName string `json:"customerFirstName"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(raw), &sent); err != nil {
		t.Fatal(err)
	}
	if sent.Data.TicketContent != hostileText || sent.Data.CustomerFirstName != name {
		t.Fatalf("the ticket came back changed:\n%q\n%q", sent.Data.TicketContent, sent.Data.CustomerFirstName)
	}

	// read back through the portal's list and PocketBase's record API
	status, raw = hostileCall(t, http.MethodGet, base+"/getUserTickets?limit=100", owner, "", "")
	var list struct {
		Data []struct {
			Id            string `json:"id"`
			TicketContent string `json:"ticketContent"`
		} `json:"data"`
	}
	_ = json.Unmarshal([]byte(raw), &list)
	found := false
	for _, tk := range list.Data {
		found = found || (tk.Id == sent.TicketId && tk.TicketContent == hostileText)
	}
	if status != http.StatusOK || !found {
		t.Fatalf("getUserTickets does not return the text verbatim: %d", status)
	}
	status, raw = hostileCall(t, http.MethodGet, base+"/api/collections/tickets/records/"+sent.TicketId, owner, "", "")
	var rec struct {
		TicketContent string `json:"ticketContent"`
	}
	_ = json.Unmarshal([]byte(raw), &rec)
	if status != http.StatusOK || rec.TicketContent != hostileText {
		t.Fatalf("the record API does not return the text verbatim: %d %q", status, rec.TicketContent)
	}

	// an agent answers with the same text; the customer's mail escapes it
	body, _ = json.Marshal(map[string]string{"answer": hostileText})
	status, raw = hostileCall(t, http.MethodPatch, base+"/sendAnswerOnTicket/"+sent.TicketId, admin, "application/json", string(body))
	var answered struct {
		Data struct {
			TicketAnswers []struct {
				Answer string `json:"answer"`
			} `json:"ticketAnswers"`
		} `json:"data"`
	}
	_ = json.Unmarshal([]byte(raw), &answered)
	if status != http.StatusOK || len(answered.Data.TicketAnswers) != 1 || answered.Data.TicketAnswers[0].Answer != hostileText {
		t.Fatalf("sendAnswerOnTicket: %d %.500s", status, raw)
	}
	m := srv.WaitFor(t, "alice@example.com", "[#"+sent.TicketId+"]", 10*time.Second)
	for _, unescaped := range []string{`<script>alert`, `<img src=x`, `<b>Eve</b>`} {
		if strings.Contains(m.HTML, unescaped) {
			t.Errorf("the mail's HTML holds %q unescaped", unescaped)
		}
	}
	for _, want := range []string{`&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;`, `{{.AppName}} {{template`, "🎫", "\u202egnp.exe"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("the mail's HTML lacks %q", want)
		}
	}
	if strings.Count(m.Text, `<script>alert("x")</script>`) != 2 || !strings.Contains(m.Text, `{{.AppName}} {{template "layout" .}}`) {
		t.Errorf("the mail's text part does not carry the ticket and the answer verbatim:\n%s", m.Text)
	}
}
