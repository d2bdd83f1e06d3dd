package inbound_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"ticketportal/testapp"
)

// inboundCount reads ticketportal_inbound_mails_total{result} from the
// registry /metrics serves.
func inboundCount(t *testing.T, result string) float64 {
	t.Helper()
	families, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != "ticketportal_inbound_mails_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "result" && l.GetValue() == result {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	t.Fatalf("no ticketportal_inbound_mails_total{result=%q}", result)
	return 0
}

// The inbox (raw messages) is for operators only, on the record API that
// the dashboard uses; the counters move in /metrics' registry.
func TestInboxIsForOperatorsAndCounted(t *testing.T) {
	e := newEnv(t)
	before := map[string]float64{}
	for _, r := range []string{"stored", "duplicate", "processed", "refused", "ignored"} {
		before[r] = inboundCount(t, r)
	}
	ok := mailText("alice@example.com", supportAddr, "[#"+testapp.TicketId+"]", "op1@x", "", "secret reply text")
	e.mustSend(t, "alice@example.com", []string{supportAddr}, ok)
	e.mustSend(t, "alice@example.com", []string{supportAddr}, ok)
	forged := "support+" + testapp.TicketId + ".000000000000@example.com"
	e.mustSend(t, "bob@example.com", []string{forged}, mailText("bob@example.com", forged, "Re: x", "op2@x", "", "forged"))
	e.mustSend(t, "", []string{supportAddr}, mailText("alice@example.com", supportAddr, "away", "op3@x", "", "auto"))
	for r, want := range map[string]float64{"stored": 3, "duplicate": 1, "processed": 1, "refused": 1, "ignored": 1} {
		if got := inboundCount(t, r) - before[r]; got != want {
			t.Errorf("%s: +%v, want +%v", r, got, want)
		}
	}

	srv := testapp.Serve(t, e.app)
	for _, kind := range []string{testapp.Anonymous, testapp.Owner, testapp.Admin, testapp.SuperAdmin} {
		status, body := testapp.Call(t, http.MethodGet, srv+"/api/collections/inboundMail/records", testapp.Token(t, kind), "")
		if status == 200 || strings.Contains(string(body), "secret reply text") {
			t.Errorf("%s lists the inbox: %d %s", kind, status, body)
		}
	}
	status, body := testapp.Call(t, http.MethodGet, srv+"/api/collections/inboundMail/records?fields=state,outcome,raw", testapp.Token(t, testapp.Operator), "")
	if status != 200 || !strings.Contains(string(body), "secret reply text") || !strings.Contains(string(body), `"totalItems":3`) {
		t.Errorf("operator: %d %s", status, body)
	}
}
