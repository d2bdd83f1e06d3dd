package sqlcache_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"modernc.org/sqlite"

	"ticketportal/sqlcache"
)

const dsn = "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(ON)"

func open(t *testing.T, driverName string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driverName, filepath.Join(t.TempDir(), "data.db")+dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// pinned returns one dedicated connection of db.
func pinned(t *testing.T, db *sql.DB) *sql.Conn {
	t.Helper()
	c, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func mustExec(t *testing.T, q interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, query string, args ...any) sql.Result {
	t.Helper()
	r, err := q.ExecContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return r
}

// dump returns every row of query as text, the column names first.
func dump(t *testing.T, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) []string {
	t.Helper()
	rows, err := q.QueryContext(context.Background(), query, args...)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	types, _ := rows.ColumnTypes()
	var tn []string
	for _, ct := range types {
		tn = append(tn, ct.DatabaseTypeName()+"/"+fmt.Sprint(ct.ScanType()))
	}
	out := []string{strings.Join(cols, ","), strings.Join(tn, ",")}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var line []string
		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				v = "blob:" + string(b)
			}
			line = append(line, fmt.Sprintf("%T:%v", v, v))
		}
		out = append(out, strings.Join(line, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// The cached driver gives the same results as the plain one for a
// sequence of inserts, updates, selects and RETURNING, each run several
// times so that the repeats come from the cache.
func TestSameResultsAsPlainDriver(t *testing.T) {
	script := func(t *testing.T, db *sql.DB) []string {
		var out []string
		mustExec(t, db, `CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, n INTEGER, f REAL, b BLOB, at DATETIME)`)
		mustExec(t, db, `CREATE TABLE log (msg TEXT)`)
		mustExec(t, db, `CREATE TRIGGER t_ai AFTER INSERT ON t BEGIN INSERT INTO log VALUES ('ins ' || new.name); END`)
		at := time.Date(2026, 12, 2, 3, 4, 5, 0, time.UTC)
		for i := range 5 {
			r := mustExec(t, db, `INSERT INTO t (name, n, f, b, at) VALUES (?, ?, ?, ?, ?)`, fmt.Sprint("n", i), i, float64(i)/3, []byte{byte('a' + i)}, at)
			id, _ := r.LastInsertId()
			ra, _ := r.RowsAffected()
			out = append(out, fmt.Sprint("insert ", id, ra))
			var rid int64
			var name string
			if err := db.QueryRow(`INSERT INTO t (name, n) VALUES (?, ?) RETURNING id, name`, fmt.Sprint("r", i), i).Scan(&rid, &name); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint("returning ", rid, name))
			r = mustExec(t, db, `UPDATE t SET n = n + ? WHERE id <= ?`, 10, i+1)
			ra, _ = r.RowsAffected()
			out = append(out, fmt.Sprint("update ", ra))
			out = append(out, dump(t, db, `SELECT * FROM t WHERE n >= ? ORDER BY id`, i)...)
			out = append(out, dump(t, db, `SELECT count(*), sum(n), max(name) FROM t`)...)
			out = append(out, dump(t, db, `SELECT * FROM t WHERE id = ?`, -1)...) // no rows
			out = append(out, dump(t, db, `UPDATE t SET name = name || '!' WHERE id = ? RETURNING name`, 1)...)
		}
		out = append(out, dump(t, db, `SELECT * FROM log ORDER BY rowid`)...)
		return out
	}
	plain := script(t, open(t, "sqlite"))
	p0, _ := sqlcache.Stats()
	cached := script(t, open(t, sqlcache.DriverName))
	p1, _ := sqlcache.Stats()
	if !reflect.DeepEqual(plain, cached) {
		t.Fatalf("results differ:\nplain:  %q\ncached: %q", plain, cached)
	}
	if len(plain) < 50 {
		t.Fatalf("too few results to compare: %d", len(plain))
	}
	// 10 distinct statements (and the table/trigger DDL) run 5 times each:
	// the repeats must not have been prepared again.
	if got := p1 - p0; got == 0 || got > 16 {
		t.Fatalf("statements prepared = %d, want the distinct ones only (<= 16)", got)
	}
}

// The same SELECT run again while its first rows are open on the same
// connection (a transaction pins one) gets a fresh statement: both return
// correct rows.
func TestSameQueryWhileRowsOpen(t *testing.T) {
	db := open(t, sqlcache.DriverName)
	mustExec(t, db, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`)
	for i := 1; i <= 5; i++ {
		mustExec(t, db, `INSERT INTO t (v) VALUES (?)`, fmt.Sprint("v", i))
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	const q = `SELECT id, v FROM t WHERE id >= ? ORDER BY id`
	dump(t, tx, q, 1) // now cached on this connection
	outer, err := tx.Query(q, 2)
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for outer.Next() {
		var id int
		var v string
		if err := outer.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		inner := dump(t, tx, q, id+2) // same SQL while outer is open
		seen = append(seen, fmt.Sprintf("%d:%s:%d", id, v, len(inner)-2))
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	want := []string{"2:v2:2", "3:v3:1", "4:v4:0", "5:v5:0"}
	if !reflect.DeepEqual(seen, want) {
		t.Fatalf("got %v, want %v", seen, want)
	}
	// and the cached statement is usable again afterwards
	if got := dump(t, tx, q, 5); len(got) != 3 || got[2] != "int64:5|string:v5" {
		t.Fatalf("after: %q", got)
	}
}

// A cached INSERT, then schema changes made on another connection of the
// pool (a trigger, a column, an index), then the same INSERT on the first
// connection: the new schema applies.
func TestSchemaChangeBetweenRuns(t *testing.T) {
	db := open(t, sqlcache.DriverName)
	a, b := pinned(t, db), pinned(t, db)
	mustExec(t, a, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`)
	mustExec(t, a, `CREATE TABLE audit (v TEXT)`)
	const ins = `INSERT INTO t (v) VALUES (?)`
	mustExec(t, a, ins, "one")
	mustExec(t, a, ins, "two") // cached now
	if got := dump(t, a, `SELECT count(*) FROM audit`); got[2] != "int64:0" {
		t.Fatalf("audit before the trigger: %v", got)
	}

	mustExec(t, b, `CREATE TRIGGER t_audit AFTER INSERT ON t BEGIN INSERT INTO audit VALUES (new.v); END`)
	mustExec(t, a, ins, "three")
	if got := dump(t, a, `SELECT v FROM audit`); len(got) != 3 || got[2] != "string:three" {
		t.Fatalf("the new trigger did not run for the cached INSERT: %v", got)
	}

	const sel = `SELECT * FROM t ORDER BY id DESC LIMIT 1`
	dump(t, a, sel)
	mustExec(t, b, `ALTER TABLE t ADD COLUMN extra TEXT NOT NULL DEFAULT 'x'`)
	if got := dump(t, a, sel); got[0] != "id,v,extra" || got[2] != "int64:3|string:three|string:x" {
		t.Fatalf("SELECT * after ADD COLUMN: %v", got)
	}
	mustExec(t, b, `CREATE UNIQUE INDEX t_v ON t (v)`)
	if _, err := a.ExecContext(context.Background(), ins, "three"); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Fatalf("the new unique index did not apply to the cached INSERT: %v", err)
	}
	mustExec(t, b, `DROP TRIGGER t_audit`)
	mustExec(t, a, ins, "four")
	if got := dump(t, a, `SELECT count(*) FROM audit`); got[2] != "int64:1" {
		t.Fatalf("the dropped trigger still ran: %v", got)
	}
	mustExec(t, b, `DROP TABLE audit`)
	mustExec(t, b, `DROP TABLE t`)
	if _, err := a.ExecContext(context.Background(), ins, "five"); err == nil || !strings.Contains(err.Error(), "no such table") {
		t.Fatalf("cached INSERT into a dropped table: %v", err)
	}
	mustExec(t, b, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, w TEXT DEFAULT 'new')`)
	mustExec(t, a, ins, "six")
	if got := dump(t, a, `SELECT v, w FROM t`); len(got) != 3 || got[2] != "string:six|string:new" {
		t.Fatalf("after re-creating the table: %v", got)
	}
}

// registerSmall registers a caching driver with a tiny cache.
var registerSmall = sync.OnceValue(func() string {
	db, _ := sql.Open("sqlite", "")
	inner := db.Driver()
	db.Close()
	sql.Register("sqlite_stmtcache_small", &sqlcache.Driver{Inner: inner, Size: 8})
	return "sqlite_stmtcache_small"
})

func stmtMemory(t *testing.T, c *sql.Conn) (n, used int) {
	t.Helper()
	if err := c.Raw(func(dc any) error {
		cc := dc.(*sqlcache.Conn)
		n = cc.Len()
		var err error
		used, _, err = cc.Status(sqlite.DBStatusStmtUsed, false)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n, used
}

// Past the cap, the least recently used statements are closed: the cache
// holds Size statements, and SQLite's own count of the memory held by the
// connection's prepared statements stops growing; closing the connection
// closes every cached statement.
func TestEvictionClosesStatements(t *testing.T) {
	name := registerSmall()
	db := open(t, name)
	c := pinned(t, db)
	mustExec(t, c, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`)
	p0, c0 := sqlcache.Stats()
	for i := range 8 {
		dump(t, c, fmt.Sprintf(`SELECT id, v, %d FROM t WHERE id > ?`, i), 0)
	}
	n, full := stmtMemory(t, c)
	if n != 8 || full == 0 {
		t.Fatalf("after 8 statements: %d cached, %d bytes", n, full)
	}
	for i := 8; i < 200; i++ {
		dump(t, c, fmt.Sprintf(`SELECT id, v, %d FROM t WHERE id > ?`, i), 0)
	}
	n, later := stmtMemory(t, c)
	p1, c1 := sqlcache.Stats()
	if n != 8 {
		t.Fatalf("cached after 200 statements: %d, want 8", n)
	}
	// the CREATE TABLE was cached too: 201 statements through a cache of 8
	if p1-p0 != 200 || c1-c0 != 193 {
		t.Fatalf("prepared %d, closed %d; want 200 and 193", p1-p0, c1-c0)
	}
	// SQLite's count: the same 8 statements' worth, not 200's (a few
	// percent of slack for the statement that reads it).
	if later > full*3/2 {
		t.Fatalf("prepared-statement memory grew from %d to %d bytes: evicted statements were not finalized", full, later)
	}
	// a statement evicted while its rows are open is closed when they close
	rows, err := c.QueryContext(context.Background(), `SELECT id, v, 199 FROM t WHERE id > ?`, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 200; i < 220; i++ {
		dump(t, c, fmt.Sprintf(`SELECT id, v, %d FROM t WHERE id > ?`, i), 0)
	}
	_, c2 := sqlcache.Stats()
	rows.Close()
	_, c3 := sqlcache.Stats()
	if c3-c2 != 1 {
		t.Fatalf("closing the rows of an evicted statement closed %d statements, want 1", c3-c2)
	}
	c.Close()
	db.Close()
	p4, c4 := sqlcache.Stats()
	if p4-p0+1 != c4-c0 { // +1: the CREATE TABLE, prepared before p0
		t.Fatalf("after closing the connection: %d prepared, %d closed", p4-p0+1, c4-c0)
	}
}

// A constraint error on a cached INSERT, then the same INSERT with good
// values succeeds (and so does one while a transaction is open).
func TestConstraintErrorThenGoodInsert(t *testing.T) {
	db := open(t, sqlcache.DriverName)
	c := pinned(t, db)
	mustExec(t, c, `CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL UNIQUE CHECK (v <> 'bad'))`)
	const ins = `INSERT INTO t (v) VALUES (?)`
	mustExec(t, c, ins, "a")
	for _, bad := range []any{"a", "bad", nil} {
		if _, err := c.ExecContext(context.Background(), ins, bad); err == nil {
			t.Fatalf("insert %v: no error", bad)
		}
		mustExec(t, c, ins, fmt.Sprint("ok", bad))
	}
	// a constraint error raised by RETURNING's query path, then a good one
	const ret = `INSERT INTO t (v) VALUES (?) RETURNING id`
	var id int
	if err := c.QueryRowContext(context.Background(), ret, "a").Scan(&id); err == nil {
		t.Fatal("RETURNING insert of a duplicate: no error")
	}
	if err := c.QueryRowContext(context.Background(), ret, "z").Scan(&id); err != nil || id == 0 {
		t.Fatalf("RETURNING insert after the error: %d %v", id, err)
	}
	if got := dump(t, c, `SELECT count(*) FROM t`); got[2] != "int64:5" {
		t.Fatalf("rows: %v", got)
	}
}

// A context cancelled mid-query (during the step, and while iterating
// rows) leaves the connection and its cache usable.
func TestCancelledContextLeavesConnectionUsable(t *testing.T) {
	db := open(t, sqlcache.DriverName)
	db.SetMaxOpenConns(1) // so the next statements run on the same connection
	mustExec(t, db, `CREATE TABLE t (id INTEGER PRIMARY KEY)`)
	const slow = `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT count(*) FROM c`
	var n int
	if err := db.QueryRow(slow, 10).Scan(&n); err != nil || n != 10 {
		t.Fatalf("warm-up: %d %v", n, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	err := db.QueryRowContext(ctx, slow, 1_000_000_000).Scan(&n)
	cancel()
	if err == nil {
		t.Fatal("a cancelled query returned no error")
	}
	const slowExec = `INSERT INTO t (id) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT x FROM c WHERE x < 0`
	mustExec(t, db, slowExec, 10)
	ctx, cancel = context.WithTimeout(context.Background(), 30*time.Millisecond)
	_, err = db.ExecContext(ctx, slowExec, 1_000_000_000)
	cancel()
	if err == nil {
		t.Fatal("a cancelled exec returned no error")
	}
	// cancelled while iterating rows
	ctx, cancel = context.WithCancel(context.Background())
	rows, err := db.QueryContext(ctx, `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT x FROM c`, 1000)
	if err != nil {
		t.Fatal(err)
	}
	rows.Next()
	cancel()
	for rows.Next() {
	}
	rows.Close()

	for range 3 {
		if err := db.QueryRow(slow, 1000).Scan(&n); err != nil || n != 1000 {
			t.Fatalf("after the cancel: %d %v", n, err)
		}
		mustExec(t, db, `INSERT INTO t (id) VALUES (NULL)`)
	}
	if err := db.QueryRow(`SELECT count(*) FROM t`).Scan(&n); err != nil || n != 3 {
		t.Fatalf("rows after the cancel: %d %v", n, err)
	}
	if st := db.Stats(); st.OpenConnections != 1 {
		t.Fatalf("open connections %d", st.OpenConnections)
	}
}

// Scripts of several statements and empty SQL pass through uncached and
// work as with the plain driver.
func TestScriptsAndEmptySQLPassThrough(t *testing.T) {
	db := open(t, sqlcache.DriverName)
	c := pinned(t, db)
	p0, _ := sqlcache.Stats()
	const script = `CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1); INSERT INTO a VALUES (2);
		-- a comment
		CREATE INDEX a_x ON a (x);`
	mustExec(t, c, script)
	if _, err := c.ExecContext(context.Background(), script); err == nil {
		t.Fatal("re-running the script: no error (table exists)")
	}
	if _, err := c.ExecContext(context.Background(), "   "); err != nil {
		t.Fatalf("empty SQL: %v", err)
	}
	p1, _ := sqlcache.Stats()
	if p1 != p0 {
		t.Fatalf("%d statements cached for scripts", p1-p0)
	}
	// comment-only SQL may be cached (a statement with nothing to run)
	for range 2 {
		if _, err := c.ExecContext(context.Background(), "-- only a comment"); err != nil {
			t.Fatalf("comment-only SQL: %v", err)
		}
		if rows, err := c.QueryContext(context.Background(), "/* nothing */"); err != nil {
			t.Fatalf("comment-only query: %v", err)
		} else if rows.Next() {
			t.Fatal("comment-only query returned a row")
		} else {
			rows.Close()
		}
	}
	if got := dump(t, c, `SELECT sum(x) FROM a;`); got[2] != "int64:3" {
		t.Fatalf("script result: %v", got)
	}
	// a ';' inside a literal only makes a statement uncached
	mustExec(t, c, `INSERT INTO a VALUES (length('a;b'))`)
	if got := dump(t, c, `SELECT sum(x) FROM a`); got[2] != "int64:6" {
		t.Fatalf("after the literal: %v", got)
	}
}

// The wrapped connection's optional interfaces work through the cache:
// ping, read-only transactions, raw access to the driver's connection.
func TestOptionalInterfaces(t *testing.T) {
	db := open(t, sqlcache.DriverName)
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	mustExec(t, db, `CREATE TABLE t (x)`)
	tx, err := db.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	c := pinned(t, db)
	if err := c.Raw(func(dc any) error {
		if _, ok := dc.(sqlite.DBStatus); !ok {
			return errors.New("the connection does not pass sqlite.DBStatus through")
		}
		if _, ok := dc.(*sqlcache.Conn).Unwrap().(sqlite.DBStatus); !ok {
			return errors.New("Unwrap does not give the driver's connection")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if db.Driver().(*sqlcache.Driver).Inner == nil {
		t.Fatal("no wrapped driver")
	}
}
