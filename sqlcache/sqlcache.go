// Package sqlcache is a database/sql driver that wraps modernc.org/sqlite
// (the driver PocketBase uses) and keeps, per connection, a bounded LRU of
// prepared statements keyed by their SQL text.
//
// Why it exists: PocketBase (through dbx and database/sql) runs every
// statement unprepared, so the driver parses and compiles it anew on every
// call. For an INSERT or UPDATE of a ticket or a message that compile
// includes every trigger of the table (integrity checks, the full-text
// index, report counters, ticket counts), and a CPU profile of a ticket
// write put about a quarter of its CPU in SQLite's parser. modernc's driver
// statement keeps its compiled sqlite3_stmt and resets it after each run,
// and SQLite re-prepares such a statement by itself after a schema change
// (sqlite3_prepare_v2 semantics), so keeping the driver statements of a
// connection and reusing them for the same SQL skips the parse and the
// trigger compilation on every repeat, with the same results.
//
// Rules the cache keeps:
//   - a statement whose rows are still open is not reused: the same SQL run
//     again on the connection meanwhile goes through the driver uncached;
//   - a statement is closed when it is evicted (or, if its rows are open
//     then, when they close) and when the connection closes;
//   - a statement whose run returned an error is dropped (closed), so an
//     error (busy, constraint, interrupt) never leaves a bad statement in
//     the cache;
//   - SQL with more than one statement (migration scripts), and empty SQL,
//     pass through to the driver uncached, as before;
//   - explicit Prepare calls pass through uncached (the caller owns the
//     statement).
package sqlcache

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pocketbase/dbx"
	"modernc.org/sqlite"
)

// DriverName is the database/sql name of the caching driver.
const DriverName = "sqlite_stmtcache"

// CacheSize is the number of prepared statements each connection keeps.
// PocketBase and the portal issue a few dozen distinct statements per
// collection (CRUD, rule-filtered lists, the hooks' and triggers' queries);
// 256 holds the working set of a busy server with room for variants (IN
// lists of different lengths, dashboard filters) while bounding memory:
// a compiled statement takes a few KB up to some tens of KB for an INSERT
// that carries many triggers, so a full cache costs a few MB per pooled
// connection.
const CacheSize = 256

var register sync.Once

// Register registers the driver under DriverName (once). It wraps the
// driver that modernc.org/sqlite registered as "sqlite", so functions,
// collations and hooks registered on that driver apply here too.
func Register() {
	register.Do(func() {
		db, err := sql.Open("sqlite", "")
		if err != nil {
			panic("sqlcache: the sqlite driver is not registered: " + err.Error())
		}
		inner := db.Driver()
		db.Close()
		sql.Register(DriverName, &Driver{Inner: inner})
	})
}

func init() { Register() }

// Open opens dsn (a modernc.org/sqlite DSN) through the caching driver
// and returns a dbx.DB that builds SQL as for "sqlite".
func Open(dsn string) (*dbx.DB, error) {
	db, err := sql.Open(DriverName, dsn)
	if err != nil {
		return nil, err
	}
	return dbx.NewFromDB(db, "sqlite"), nil
}

// Driver wraps Inner's connections with a statement cache.
type Driver struct {
	Inner driver.Driver
	// Size overrides CacheSize when > 0 (tests use a small one).
	Size int
}

// innerConn is what the cache needs of modernc's connection.
type innerConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
}

// Open implements driver.Driver.
func (d *Driver) Open(name string) (driver.Conn, error) {
	c, err := d.Inner.Open(name)
	if err != nil {
		return nil, err
	}
	ic, ok := c.(innerConn)
	if !ok {
		return c, nil // nothing to cache through; use it as it is
	}
	size := d.Size
	if size <= 0 {
		size = CacheSize
	}
	return &Conn{inner: ic, size: size, byQuery: make(map[string]*list.Element)}, nil
}

// Counters of statements prepared into and closed out of any cache, for
// tests and diagnostics.
var prepared, closed atomic.Int64

// Stats returns how many statements the caches have prepared and closed
// since the program started.
func Stats() (preparedTotal, closedTotal int64) { return prepared.Load(), closed.Load() }

type entry struct {
	query   string
	stmt    driver.Stmt
	inUse   bool // its rows are open
	evicted bool // out of the cache; close when released
}

// Conn is a connection with a statement cache. It passes every optional
// interface of modernc's connection through.
type Conn struct {
	inner innerConn

	mu      sync.Mutex
	size    int
	lru     list.List // of *entry, most recent first
	byQuery map[string]*list.Element
	closed  bool
}

// Unwrap returns the driver's own connection (for sql.Conn.Raw users).
func (c *Conn) Unwrap() driver.Conn { return c.inner }

// Len returns the number of cached statements.
func (c *Conn) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// cacheable reports whether query is one statement the cache may keep:
// not empty and with no ';' before its end (a ';' in a string literal
// makes it uncached, which is merely slower).
func cacheable(query string) bool {
	q := strings.TrimRight(query, " \t\r\n;")
	return q != "" && !strings.Contains(q, ";")
}

// acquire returns the cached statement for query marked in use, preparing
// and caching one if needed; nil if the query must go uncached.
func (c *Conn) acquire(ctx context.Context, query string) (*entry, error) {
	if !cacheable(query) {
		return nil, nil
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, driver.ErrBadConn
	}
	if el, ok := c.byQuery[query]; ok {
		e := el.Value.(*entry)
		if e.inUse {
			c.mu.Unlock()
			return nil, nil
		}
		e.inUse = true
		c.lru.MoveToFront(el)
		c.mu.Unlock()
		return e, nil
	}
	c.mu.Unlock()

	s, err := c.inner.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	prepared.Add(1)
	e := &entry{query: query, stmt: s, inUse: true}
	var toClose []*entry
	c.mu.Lock()
	if _, dup := c.byQuery[query]; dup || c.closed {
		// cached meanwhile (or the connection closed): run this one once
		e.evicted = true
		c.mu.Unlock()
		return e, nil
	}
	c.byQuery[query] = c.lru.PushFront(e)
	for c.lru.Len() > c.size {
		old := c.lru.Back()
		oe := old.Value.(*entry)
		c.lru.Remove(old)
		delete(c.byQuery, oe.query)
		oe.evicted = true
		if !oe.inUse {
			toClose = append(toClose, oe)
		}
	}
	c.mu.Unlock()
	for _, oe := range toClose {
		closeStmt(oe)
	}
	return e, nil
}

func closeStmt(e *entry) {
	e.stmt.Close()
	closed.Add(1)
}

// release hands e back after a run; failed drops it from the cache.
func (c *Conn) release(e *entry, failed bool) {
	c.mu.Lock()
	e.inUse = false
	if failed && !e.evicted {
		if el, ok := c.byQuery[e.query]; ok && el.Value.(*entry) == e {
			c.lru.Remove(el)
			delete(c.byQuery, e.query)
		}
		e.evicted = true
	}
	// After the connection closed its statements are gone with it
	// (database/sql closes rows before their connection).
	closeIt := e.evicted && !c.closed
	c.mu.Unlock()
	if closeIt {
		closeStmt(e)
	}
}

// ExecContext implements driver.ExecerContext through the cache.
func (c *Conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	e, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return c.inner.ExecContext(ctx, query, args)
	}
	res, err := e.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	c.release(e, err != nil)
	return res, err
}

// QueryContext implements driver.QueryerContext through the cache.
func (c *Conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	e, err := c.acquire(ctx, query)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return c.inner.QueryContext(ctx, query, args)
	}
	r, err := e.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		c.release(e, true)
		return nil, err
	}
	return &rows{inner: r, c: c, e: e}, nil
}

// PrepareContext implements driver.ConnPrepareContext: uncached, the caller
// owns the statement.
func (c *Conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.inner.PrepareContext(ctx, query)
}

// Prepare implements driver.Conn.
func (c *Conn) Prepare(query string) (driver.Stmt, error) { return c.inner.Prepare(query) }

// Begin implements driver.Conn.
func (c *Conn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx implements driver.ConnBeginTx.
func (c *Conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if b, ok := c.inner.(driver.ConnBeginTx); ok {
		return b.BeginTx(ctx, opts)
	}
	return c.inner.Begin() //nolint:staticcheck // fallback for a driver without BeginTx
}

// Close closes every cached statement not in use (those in use close when
// their rows do), then the connection.
func (c *Conn) Close() error {
	c.mu.Lock()
	c.closed = true
	var toClose []*entry
	for el := c.lru.Front(); el != nil; el = el.Next() {
		e := el.Value.(*entry)
		e.evicted = true
		if !e.inUse {
			toClose = append(toClose, e)
		}
	}
	c.lru.Init()
	c.byQuery = map[string]*list.Element{}
	c.mu.Unlock()
	for _, e := range toClose {
		closeStmt(e)
	}
	return c.inner.Close()
}

// Ping implements driver.Pinger.
func (c *Conn) Ping(ctx context.Context) error {
	if p, ok := c.inner.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return nil
}

// ResetSession implements driver.SessionResetter.
func (c *Conn) ResetSession(ctx context.Context) error {
	if r, ok := c.inner.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

// IsValid implements driver.Validator.
func (c *Conn) IsValid() bool {
	if v, ok := c.inner.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

// CheckNamedValue implements driver.NamedValueChecker by asking the
// wrapped connection, or database/sql's default conversion if it has none
// (modernc v1.57.0 has none).
func (c *Conn) CheckNamedValue(nv *driver.NamedValue) error {
	if ch, ok := c.inner.(driver.NamedValueChecker); ok {
		return ch.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

// Status passes sqlite.DBStatus through (per-connection SQLite counters).
func (c *Conn) Status(op sqlite.DBStatusOp, reset bool) (current, high int, err error) {
	if s, ok := c.inner.(sqlite.DBStatus); ok {
		return s.Status(op, reset)
	}
	return 0, 0, errors.New("sqlcache: the wrapped connection has no status")
}

// rows releases its cached statement when closed.
type rows struct {
	inner driver.Rows
	c     *Conn
	e     *entry
	once  sync.Once
}

func (r *rows) Columns() []string              { return r.inner.Columns() }
func (r *rows) Next(dest []driver.Value) error { return r.inner.Next(dest) }

func (r *rows) Close() error {
	err := r.inner.Close() // modernc resets the statement for its next run
	r.once.Do(func() { r.c.release(r.e, err != nil) })
	return err
}

func (r *rows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.inner.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *rows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.inner.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *rows) ColumnTypeNullable(i int) (bool, bool) {
	if t, ok := r.inner.(driver.RowsColumnTypeNullable); ok {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *rows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if t, ok := r.inner.(driver.RowsColumnTypePrecisionScale); ok {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

func (r *rows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.inner.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}

var (
	_ driver.Conn               = (*Conn)(nil)
	_ driver.ConnBeginTx        = (*Conn)(nil)
	_ driver.ConnPrepareContext = (*Conn)(nil)
	_ driver.ExecerContext      = (*Conn)(nil)
	_ driver.QueryerContext     = (*Conn)(nil)
	_ driver.Pinger             = (*Conn)(nil)
	_ driver.SessionResetter    = (*Conn)(nil)
	_ driver.Validator          = (*Conn)(nil)
	_ driver.NamedValueChecker  = (*Conn)(nil)
	_ sqlite.DBStatus           = (*Conn)(nil)

	_ driver.RowsColumnTypeDatabaseTypeName = (*rows)(nil)
	_ driver.RowsColumnTypeLength           = (*rows)(nil)
	_ driver.RowsColumnTypeNullable         = (*rows)(nil)
	_ driver.RowsColumnTypePrecisionScale   = (*rows)(nil)
	_ driver.RowsColumnTypeScanType         = (*rows)(nil)
)
