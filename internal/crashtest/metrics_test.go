package crashtest

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"
)

// scrape calls GET /metrics with the Authorization header auth (none when
// empty) and returns the status and the body.
func scrape(t *testing.T, s *server, auth string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.url+"/metrics", nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := hardeningClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

// sample returns the value of the series line that matches pattern, or 0.
func sample(body, pattern string) float64 {
	m := regexp.MustCompile(`(?m)^` + pattern + ` ([0-9.e+-]+)$`).FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// GET /metrics answers operators and the scraper's token; anyone else is
// refused, and nothing of the metrics leaks in the refusal.
func TestMetricsAreForOperatorsAndTheScraper(t *testing.T) {
	dir := newDataDir(t)
	cli(t, dir, "superadmin", "upsert", "boss@example.com", "boss", "boss-password-1")
	s := start(t, dir, "PORTAL_METRICS_TOKEN=scrape-secret-1")
	op := s.operatorToken()
	s.excludeLoopbackFromRateLimits(op)
	customer := s.customers(op, 1)[0]
	agent := s.must(http.StatusOK, http.MethodPost, "/login", "", `{"userName":"boss","password":"boss-password-1"}`)["token"].(string)

	for name, c := range map[string]struct {
		auth string
		want int
	}{
		"anonymous":                {"", http.StatusUnauthorized},
		"wrong scraper token":      {"Bearer not-the-secret", http.StatusUnauthorized},
		"token without Bearer":     {"scrape-secret-1", http.StatusUnauthorized},
		"customer":                 {"Bearer " + customer, http.StatusForbidden},
		"superAdmin (no operator)": {"Bearer " + agent, http.StatusForbidden},
		"operator":                 {"Bearer " + op, http.StatusOK},
		"scraper":                  {"Bearer scrape-secret-1", http.StatusOK},
	} {
		status, body := scrape(t, s, c.auth)
		if status != c.want {
			t.Errorf("%s: GET /metrics %d, want %d", name, status, c.want)
		}
		if status != http.StatusOK && regexp.MustCompile(`ticketportal_|go_goroutines`).MatchString(body) {
			t.Errorf("%s: the refusal shows metrics", name)
		}
	}

	const sent = `ticketportal_http_requests_total\{route="POST /sendTicket",status="201"\}`
	const refused = `ticketportal_http_requests_total\{route="POST /sendTicket",status="401"\}`
	_, before := scrape(t, s, "Bearer scrape-secret-1")
	for i := range 3 {
		s.must(http.StatusCreated, http.MethodPost, "/sendTicket", customer, fmt.Sprintf(`{"ticketContent":"metrics %d"}`, i))
	}
	status, _, _ := s.request(http.MethodPost, "/sendTicket", "", `{"ticketContent":"anonymous"}`)
	_, after := scrape(t, s, "Bearer scrape-secret-1")
	if got := sample(after, sent) - sample(before, sent); got != 3 {
		t.Errorf("POST /sendTicket 201 moved by %v, want 3", got)
	}
	if got := sample(after, refused) - sample(before, refused); got != 1 || status != http.StatusUnauthorized {
		t.Errorf("POST /sendTicket 401 moved by %v (status %d), want 1", got, status)
	}
	if sample(after, `ticketportal_http_request_duration_seconds_count\{route="POST /sendTicket"\}`) < 4 {
		t.Errorf("no latency observations for POST /sendTicket:\n%s", after)
	}
	for _, series := range []string{
		`ticketportal_realtime_clients`,
		`ticketportal_mail_outbox\{status="pending"\}`,
		`ticketportal_mail_outbox\{status="sent"\}`,
		`ticketportal_mail_outbox\{status="failed"\}`,
	} {
		if !regexp.MustCompile(`(?m)^` + series + ` `).MatchString(after) {
			t.Errorf("no %s series", series)
		}
	}
	// raw paths never become series (the route pattern does)
	s.request(http.MethodGet, "/searchForTicket/abc123", op, "")
	s.request(http.MethodGet, "/no/such/path/1", "", "")
	_, last := scrape(t, s, "Bearer "+op)
	if regexp.MustCompile(`abc123|/no/such`).MatchString(last) {
		t.Errorf("a raw path became a series")
	}
	if !regexp.MustCompile(`route="GET /searchForTicket/\{ticketId\}"`).MatchString(last) {
		t.Errorf("the route pattern of /searchForTicket is not a series")
	}
}
