package replicate

import (
	"fmt"
	"log/slog"

	"github.com/pocketbase/pocketbase/core"
	"github.com/pocketbase/pocketbase/tools/hook"
)

// OptimizeJobID is PocketBase's nightly database job, which this package
// replaces.
const OptimizeJobID = "__pbDBOptimize__"

// ReplaceOptimizeJob swaps PocketBase's nightly job (a TRUNCATE checkpoint
// of both databases, then PRAGMA optimize) for Optimize. A TRUNCATE
// checkpoint holds the write lock until every reader has left the WAL; the
// replication keeps a read transaction open at all times, so it would
// stall every write for the whole busy timeout (10 s). A PASSIVE
// checkpoint copies what it can and never waits.
func ReplaceOptimizeJob(app core.App) {
	_ = app.Cron().Add(OptimizeJobID, "0 0 * * *", func() { Optimize(app) })
}

// Optimize runs a PASSIVE checkpoint of both databases and PRAGMA optimize.
func Optimize(app core.App) {
	if _, err := app.NonconcurrentDB().NewQuery("PRAGMA wal_checkpoint(PASSIVE)").Execute(); err != nil {
		app.Logger().Warn("Failed to run the periodic PASSIVE checkpoint of the main DB", slog.String("error", err.Error()))
	}
	if _, err := app.AuxNonconcurrentDB().NewQuery("PRAGMA wal_checkpoint(PASSIVE)").Execute(); err != nil {
		app.Logger().Warn("Failed to run the periodic PASSIVE checkpoint of the auxiliary DB", slog.String("error", err.Error()))
	}
	if _, err := app.NonconcurrentDB().NewQuery("PRAGMA optimize").Execute(); err != nil {
		app.Logger().Warn("Failed to run the periodic PRAGMA optimize", slog.String("error", err.Error()))
	}
}

// backupBusyTimeoutMs bounds how long the TRUNCATE checkpoint inside
// PocketBase's backup (core.CreateBackup) may wait for readers while the
// replication runs.
const backupBusyTimeoutMs = 200

// guardBackups keeps PocketBase's backups from stalling writes while the
// replication runs. A backup copies data.db with VACUUM INTO and then runs
// "PRAGMA wal_checkpoint(TRUNCATE)" on the single writer connection: with
// the replication's read transaction open, that checkpoint would wait for
// the whole busy timeout (10 s) with the writer connection held, and every
// write would wait with it. For the length of the backup the writer
// connection's busy timeout is cut to 200 ms: the checkpoint gives up
// quickly (PocketBase ignores its error; the replication checkpoints on its
// own), and the connection gets PocketBase's 10 s back afterwards.
func guardBackups(app core.App) {
	app.OnBackupCreate().Bind(&hook.Handler[*core.BackupEvent]{
		Func: func(e *core.BackupEvent) error {
			if Running() == nil {
				return e.Next()
			}
			db := e.App.NonconcurrentDB()
			// (a PRAGMA takes no bound parameters)
			if _, err := db.NewQuery(fmt.Sprintf("PRAGMA busy_timeout = %d", backupBusyTimeoutMs)).Execute(); err != nil {
				e.App.Logger().Warn("Could not shorten the busy timeout for the backup", slog.String("error", err.Error()))
				return e.Next()
			}
			defer func() { _, _ = db.NewQuery("PRAGMA busy_timeout = 10000").Execute() }()
			return e.Next()
		},
	})
}
