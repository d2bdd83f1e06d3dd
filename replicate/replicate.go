// Package replicate streams data.db to a replica with Litestream (used as
// a library, inside the binary) while the server runs, and restores a data
// dir from a replica.
//
// A replica is a URL: file:///var/backups/portal or
// s3://bucket/path?endpoint=https://s3.example.com (credentials from
// AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or the URL's user info).
// `serve --replica URL` (or PORTAL_REPLICA_URL) turns it on; the store
// opens after bootstrap, when the server starts, and closes after
// PocketBase has closed its databases.
//
// Only data.db is replicated: auxiliary.db holds request logs, and
// uploaded files live in PocketBase's file storage (use its S3 storage
// setting, or its backups, for those).
package replicate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/litestream"
	_ "github.com/benbjohnson/litestream/file" // file:// replicas
	_ "github.com/benbjohnson/litestream/s3"   // s3:// replicas
	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"ticketportal/metrics"
)

// URLEnv names the environment variable that sets the replica URL, and
// IntervalEnv the one that sets the interval.
const (
	URLEnv      = "PORTAL_REPLICA_URL"
	IntervalEnv = "PORTAL_REPLICA_INTERVAL"
)

// DefaultInterval is how often the WAL is read into a change file and how
// often change files are shipped to the replica. Twice it bounds what a
// crash of the machine can lose (the RPO) while the replica keeps up; on
// S3 it is also the most PUT requests a second under steady writes (none
// when idle).
const DefaultInterval = 200 * time.Millisecond

// Replicator is the running replication of one data.db.
type Replicator struct {
	URL   string
	db    *litestream.DB
	store *litestream.Store
	mu    sync.Mutex
	open  bool
}

// running is the process's replication, read by the metrics and the status
// route; nil when replication is off.
var running atomic.Pointer[Replicator]

// Running returns the process's replication, or nil.
func Running() *Replicator { return running.Load() }

// NewClient makes a replica client from a URL (file:// or s3://).
func NewClient(rawURL string) (litestream.ReplicaClient, error) {
	scheme := litestream.ReplicaTypeFromURL(rawURL)
	if scheme != "file" && scheme != "s3" {
		return nil, fmt.Errorf("replica URL %q: use file:///path or s3://bucket/path", rawURL)
	}
	client, err := litestream.NewReplicaClientFromURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("replica URL %q: %w", rawURL, err)
	}
	return client, nil
}

// Start opens the replication of dbPath to rawURL.
func Start(ctx context.Context, dbPath, rawURL string, interval time.Duration, logger *slog.Logger) (*Replicator, error) {
	if interval <= 0 {
		interval = DefaultInterval
	}
	client, err := NewClient(rawURL)
	if err != nil {
		return nil, err
	}
	db := litestream.NewDB(dbPath)
	db.MonitorInterval = interval
	db.ShutdownSyncTimeout = 10 * time.Second
	if logger != nil {
		db.SetLogger(logger.With("replica", redact(rawURL)))
	}
	replica := litestream.NewReplicaWithClient(db, client)
	replica.SyncInterval = interval
	db.Replica = replica
	store := litestream.NewStore([]*litestream.DB{db}, litestream.CompactionLevels{
		{Level: 0},
		{Level: 1, Interval: 30 * time.Second},
		{Level: 2, Interval: 5 * time.Minute},
		{Level: 3, Interval: time.Hour},
	})
	if err := store.Open(ctx); err != nil {
		return nil, fmt.Errorf("opening the replication: %w", err)
	}
	return &Replicator{URL: rawURL, db: db, store: store, open: true}, nil
}

// Close ships what is left and stops the replication.
func (r *Replicator) Close(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.open {
		return nil
	}
	r.open = false
	return r.store.Close(ctx)
}

// Status is what an operator sees of the replication.
type Status struct {
	Replica    string    `json:"replica"`
	LastSync   time.Time `json:"lastSync"`
	LagSeconds float64   `json:"lagSeconds"`
	LocalTXID  uint64    `json:"localTxid"`
	RemoteTXID uint64    `json:"remoteTxid"`
	InSync     bool      `json:"inSync"`
}

// Status reports the last successful sync and the lag: 0 when the replica
// has every transaction, else the time since the last successful sync.
func (r *Replicator) Status() Status {
	s := Status{Replica: redact(r.URL), LastSync: r.db.LastSuccessfulSyncAt()}
	local, err := r.db.Pos()
	if err == nil {
		s.LocalTXID = uint64(local.TXID)
	}
	s.RemoteTXID = uint64(r.db.Replica.Pos().TXID)
	s.InSync = s.LocalTXID > 0 && s.LocalTXID == s.RemoteTXID
	if !s.InSync {
		if s.LastSync.IsZero() {
			s.LagSeconds = -1 // never synced yet
		} else {
			s.LagSeconds = time.Since(s.LastSync).Seconds()
		}
	}
	return s
}

// redact drops credentials from a URL for logs and status answers.
func redact(rawURL string) string {
	if at := strings.Index(rawURL, "@"); at > 0 {
		if scheme := strings.Index(rawURL, "://"); scheme > 0 && scheme < at {
			return rawURL[:scheme+3] + "***" + rawURL[at:]
		}
	}
	return rawURL
}

// Restore writes the replica's data.db (as of at, or the newest when at is
// zero) into dir, which must not hold a data.db yet, and checks it.
func Restore(ctx context.Context, rawURL, dir string, at time.Time) error {
	client, err := NewClient(rawURL)
	if err != nil {
		return err
	}
	out := filepath.Join(dir, "data.db")
	if _, err := os.Stat(out); err == nil {
		return fmt.Errorf("%s exists: restore into an empty data dir", out)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	replica := litestream.NewReplicaWithClient(nil, client)
	err = replica.Restore(ctx, litestream.RestoreOptions{
		OutputPath:     out,
		Timestamp:      at,
		IntegrityCheck: litestream.IntegrityCheckFull,
	})
	if errors.Is(err, litestream.ErrTxNotAvailable) {
		if at.IsZero() {
			return fmt.Errorf("the replica %s holds no database", redact(rawURL))
		}
		return fmt.Errorf("the replica %s holds nothing as old as %s", redact(rawURL), at.Format(time.RFC3339))
	}
	return err
}

// lag exports the replication's state to the metrics.
type lag struct{ lag, last, inSync *prometheus.Desc }

func (l *lag) Describe(ch chan<- *prometheus.Desc) { ch <- l.lag; ch <- l.last; ch <- l.inSync }

func (l *lag) Collect(ch chan<- prometheus.Metric) {
	r := Running()
	if r == nil {
		return
	}
	s := r.Status()
	in := 0.0
	if s.InSync {
		in = 1
	}
	last := 0.0
	if !s.LastSync.IsZero() {
		last = float64(s.LastSync.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(l.lag, prometheus.GaugeValue, s.LagSeconds)
	ch <- prometheus.MustNewConstMetric(l.last, prometheus.GaugeValue, last)
	ch <- prometheus.MustNewConstMetric(l.inSync, prometheus.GaugeValue, in)
}

// Register adds --replica to the command line and runs the replication
// while `serve` runs; it also replaces PocketBase's nightly checkpoint and
// keeps PocketBase's backups from stalling writes.
func Register(app core.App, root *cobra.Command) {
	var url string
	root.PersistentFlags().StringVar(&url, "replica", os.Getenv(URLEnv),
		"replicate data.db continuously to this URL (file:///path or s3://bucket/path?endpoint=...); also "+URLEnv)

	interval := DefaultInterval
	if v, err := time.ParseDuration(os.Getenv(IntervalEnv)); err == nil && v > 0 {
		interval = v
	}
	root.PersistentFlags().DurationVar(&interval, "replicaInterval", interval,
		"how often changes are shipped to the replica (the RPO is about twice this); also "+IntervalEnv)

	_ = metrics.Add(&lag{
		lag:    prometheus.NewDesc("ticketportal_replication_lag_seconds", "Seconds since the last successful sync while the replica misses transactions; 0 when in sync, -1 before the first sync.", nil, nil),
		last:   prometheus.NewDesc("ticketportal_replication_last_sync_timestamp_seconds", "Unix time of the last successful sync to the replica.", nil, nil),
		inSync: prometheus.NewDesc("ticketportal_replication_in_sync", "1 when the replica holds every local transaction.", nil, nil),
	})

	ReplaceOptimizeJob(app)
	guardBackups(app)

	app.OnServe().Bind(&hook.Handler[*core.ServeEvent]{
		Priority: -100, // before the server listens
		Func: func(se *core.ServeEvent) error {
			if url == "" {
				return se.Next()
			}
			r, err := Start(context.Background(), filepath.Join(se.App.DataDir(), "data.db"), url, interval, se.App.Logger())
			if err != nil {
				return err
			}
			running.Store(r)
			se.App.Logger().Info("replication started", "replica", redact(url))
			se.Router.GET("/api/portal/replication", func(e *core.RequestEvent) error {
				if !e.HasSuperuserAuth() {
					if e.Auth == nil {
						return e.UnauthorizedError("Sign in as an operator.", nil)
					}
					return e.ForbiddenError("Only operators see the replication.", nil)
				}
				return e.JSON(200, r.Status())
			})
			go logStatus(se.App, r)
			return se.Next()
		},
	})

	app.OnTerminate().Bind(&hook.Handler[*core.TerminateEvent]{
		Func: func(e *core.TerminateEvent) error {
			r := running.Load()
			if r == nil {
				return e.Next()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			defer cancel()
			if e.IsRestart {
				// a restart (after a restore from a backup) execs a new
				// process at the end of the chain: stop first
				_ = r.Close(ctx)
				running.Store(nil)
				return e.Next()
			}
			err := e.Next() // PocketBase closes its databases
			if cerr := r.Close(ctx); cerr != nil {
				err = errors.Join(err, fmt.Errorf("closing the replication: %w", cerr))
			}
			running.Store(nil)
			return err
		},
	})
}

// logStatus writes the replication's state into the logs (the dashboard's
// Logs page) every minute while it runs.
func logStatus(app core.App, r *Replicator) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for range t.C {
		if running.Load() != r {
			return
		}
		s := r.Status()
		app.Logger().Info("replication", "replica", s.Replica, "lastSync", s.LastSync.UTC().Format(time.RFC3339), "lagSeconds", s.LagSeconds, "inSync", s.InSync)
	}
}
