// Package metrics serves GET /metrics in Prometheus's text format to
// operators (PocketBase superusers) and to a scraper holding
// PORTAL_METRICS_TOKEN as its bearer token.
//
// It measures every request by route pattern and status (the pattern, e.g.
// "GET /api/collections/{collection}/records", not the raw path, so that
// the number of series stays bounded), the realtime clients and the mail
// outbox. Other packages add their own series with Register.
package metrics

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/pocketbase/pocketbase/tools/router"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"ticketportal/store"
)

// TokenEnv names the environment variable holding the scraper's token.
const TokenEnv = "PORTAL_METRICS_TOKEN"

// Registry is where the portal's series live: Prometheus's default
// registry, which also holds the Go runtime's and the process's series and
// those of the libraries that register there (Litestream's replication
// series).
func Registry() prometheus.Registerer { return prometheus.DefaultRegisterer }

// Add registers a collector (e.g. a later package's counters); adding the
// same collector twice is not an error.
func Add(c prometheus.Collector) error {
	err := prometheus.DefaultRegisterer.Register(c)
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		return nil
	}
	return err
}

var (
	requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "ticketportal",
		Name:      "http_requests_total",
		Help:      "HTTP requests answered, by route pattern and status.",
	}, []string{"route", "status"})
	latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "ticketportal",
		Name:      "http_request_duration_seconds",
		Help:      "Time to answer an HTTP request, by route pattern (realtime connections last as long as the client stays).",
		Buckets:   []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route"})

	// current is the app the collectors read (one per process).
	current atomic.Pointer[core.App]
	once    sync.Once
)

// appCollector reads the running app at each scrape.
type appCollector struct {
	realtime *prometheus.Desc
	mails    *prometheus.Desc
}

func (c *appCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.realtime
	ch <- c.mails
}

func (c *appCollector) Collect(ch chan<- prometheus.Metric) {
	p := current.Load()
	if p == nil {
		return
	}
	app := *p
	ch <- prometheus.MustNewConstMetric(c.realtime, prometheus.GaugeValue, float64(app.SubscriptionsBroker().TotalClients()))
	// the outbox's states (package mail): pending, sending, sent, failed, interrupted
	counts, err := store.MailCounts(app)
	if err != nil {
		return // no outbox yet (migrations not applied): no series
	}
	seen := map[string]bool{}
	for status, n := range counts {
		seen[status] = true
		ch <- prometheus.MustNewConstMetric(c.mails, prometheus.GaugeValue, float64(n), status)
	}
	for _, s := range []string{"pending", "sending", "sent", "failed", "interrupted"} {
		if !seen[s] {
			ch <- prometheus.MustNewConstMetric(c.mails, prometheus.GaugeValue, 0, s)
		}
	}
}

// Register wires the metrics into app: the request middleware, the app's
// collectors and the GET /metrics route.
func Register(app core.App) {
	current.Store(&app)
	once.Do(func() {
		_ = Add(requests)
		_ = Add(latency)
		_ = Add(&appCollector{
			realtime: prometheus.NewDesc("ticketportal_realtime_clients", "Realtime (SSE) clients connected.", nil, nil),
			mails:    prometheus.NewDesc("ticketportal_mail_outbox", "Mails in the outbox by state (pending and sending are queued).", []string{"status"}, nil),
		})
	})
	handler := promhttp.HandlerFor(prometheus.DefaultGatherer, promhttp.HandlerOpts{})

	app.OnServe().Bind(&hook.Handler[*core.ServeEvent]{
		Func: func(se *core.ServeEvent) error {
			se.Router.Bind(&hook.Handler[*core.RequestEvent]{
				Id:       "ticketportalMetrics",
				Priority: -99999, // outermost: sees every answer, even a refusal
				Func:     measure,
			})
			se.Router.GET("/metrics", func(e *core.RequestEvent) error {
				if err := allowed(e); err != nil {
					return err
				}
				handler.ServeHTTP(e.Response, e.Request)
				return nil
			})
			return se.Next()
		},
	})
}

// measure counts and times one request under its route pattern.
func measure(e *core.RequestEvent) error {
	began := time.Now()
	err := e.Next()
	route := e.Request.Pattern
	if route == "" {
		route = "unmatched" // no route: one series for every unknown path
	}
	status := http.StatusOK
	switch {
	case e.Written():
		status = e.Status()
	case err != nil:
		status = http.StatusInternalServerError
		var apiErr *router.ApiError
		if errors.As(err, &apiErr) {
			status = apiErr.Status
		}
	}
	requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	latency.WithLabelValues(route).Observe(time.Since(began).Seconds())
	return err
}

// allowed lets in a superuser or the holder of PORTAL_METRICS_TOKEN:
// anyone else gets 401 (no or a wrong credential) or 403 (a signed-in
// account that is no operator).
func allowed(e *core.RequestEvent) error {
	if e.HasSuperuserAuth() {
		return nil
	}
	if want := os.Getenv(TokenEnv); want != "" {
		got, ok := strings.CutPrefix(e.Request.Header.Get("Authorization"), "Bearer ")
		if ok && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(want)) == 1 {
			return nil
		}
	}
	if e.Auth != nil {
		return e.ForbiddenError("Only operators may read the metrics.", nil)
	}
	return e.UnauthorizedError("The metrics need an operator's token or the metrics token.", nil)
}
