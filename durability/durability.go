// Package durability opens the portal's SQLite databases with the settings
// that decide what survives a crash.
//
// PocketBase's default is journal_mode=WAL with synchronous=NORMAL: a
// committed transaction is in the WAL file (the OS's page cache) before
// the request is answered, so it survives the death of the process
// (SIGKILL, a panic, the OOM killer), but the last transactions before a
// power loss or an OS crash may be lost, because the WAL is only fsynced at
// checkpoints. The portal answers "201 Created" for a customer's ticket,
// so data.db runs with synchronous=FULL: every commit fsyncs the WAL before
// the answer goes out, and a ticket answered 201 survives a power loss too
// (on a disk that honours fsync). The cost is one fsync per write
// transaction, well within a support desk's write rate. auxiliary.db (the
// request logs) keeps NORMAL: a lost log line is no loss.
//
// Both databases are opened through sqlcache's driver (modernc.org/sqlite
// with a per-connection cache of prepared statements), so that a repeated
// statement, and the triggers it fires, is not parsed and compiled again.
package durability

import (
	"path/filepath"

	"github.com/pocketbase/dbx"

	"ticketportal/sqlcache"
)

// normalPragmas is PocketBase's DSN (core.DefaultDBConnect, v0.40.4);
// busy_timeout must stay first.
const normalPragmas = "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=journal_size_limit(200000000)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-32000)&_defensive=1"

// fullPragmas is normalPragmas with only the synchronous level changed.
const fullPragmas = "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=journal_size_limit(200000000)&_pragma=synchronous(FULL)&_pragma=foreign_keys(ON)&_pragma=temp_store(MEMORY)&_pragma=cache_size(-32000)&_defensive=1"

// Connect is the portal's core.DBConnectFunc: data.db with
// synchronous=FULL, any other database with PocketBase's settings, both
// through the statement cache.
func Connect(dbPath string) (*dbx.DB, error) {
	if filepath.Base(dbPath) != "data.db" {
		return sqlcache.Open(dbPath + normalPragmas)
	}
	return sqlcache.Open(dbPath + fullPragmas)
}

// ConnectUncached opens the same databases with the same settings through
// modernc.org/sqlite's driver directly, as PocketBase does: the baseline
// that benchmarks of the statement cache compare against.
func ConnectUncached(dbPath string) (*dbx.DB, error) {
	if filepath.Base(dbPath) != "data.db" {
		return dbx.Open("sqlite", dbPath+normalPragmas)
	}
	return dbx.Open("sqlite", dbPath+fullPragmas)
}
