package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"

	"github.com/hashicorp/golang-lru/v2/simplelru"
)

// The pure-Go SQLite driver parses a statement anew on every call that
// does not go through an explicit Prepare, and for the short statements
// of a request parsing costs about as much as running them. Each SQLite
// connection therefore keeps its most recently used statements prepared,
// as pgx does on its own for every Postgres connection.
const (
	// stmtCacheSize is how many statements a connection keeps: the
	// application runs a few dozen distinct ones, and each kept statement
	// holds a few KiB in SQLite's own heap, outside Go's.
	stmtCacheSize = 64
	// stmtCacheMaxLen leaves scripts (migrations) out: they run once, and
	// the driver re-parses a multi-statement script on every call anyway.
	stmtCacheMaxLen = 4096
)

// sqliteConnector opens connections of drv that cache their statements.
type sqliteConnector struct {
	drv driver.Driver
	dsn string
}

func (c sqliteConnector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dc, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return newCachingConn(dc)
}

func (c sqliteConnector) Driver() driver.Driver { return c.drv }

// conn is what the SQLite driver's connections implement and the cache
// needs to pass on.
type conn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// stmt is what a prepared statement of the driver implements.
type stmt interface {
	driver.Stmt
	driver.StmtExecContext
	driver.StmtQueryContext
}

// cachingConn is one connection with its prepared statements. database/sql
// uses a connection from one goroutine at a time, so it needs no lock.
type cachingConn struct {
	conn
	stmts    *simplelru.LRU[string, *cachedStmt]
	prepared int // statements prepared for the cache, for tests
}

// cachedStmt is a statement of the cache. While rows it returned are open
// it is busy: the same query meanwhile (a nested read in a transaction)
// runs as a statement of its own, since running this one would reset the
// open rows.
type cachedStmt struct {
	stmt    stmt
	busy    bool
	evicted bool // dropped from the cache while busy: closed with its rows
}

func newCachingConn(dc driver.Conn) (driver.Conn, error) {
	c, ok := dc.(conn)
	if !ok {
		_ = dc.Close()
		return nil, fmt.Errorf("sqlite statement cache: the driver's connection (%s) lacks a context method", reflect.TypeOf(dc))
	}
	cc := &cachingConn{conn: c}
	lru, err := simplelru.NewLRU(stmtCacheSize, func(_ string, s *cachedStmt) {
		if s.busy {
			s.evicted = true
			return
		}
		_ = s.stmt.Close()
	})
	if err != nil {
		_ = dc.Close()
		return nil, fmt.Errorf("sqlite statement cache: %w", err)
	}
	cc.stmts = lru
	return cc, nil
}

// statement returns the cached statement of query, preparing it on first
// use; nil when query is not to be cached or its statement is busy.
func (c *cachingConn) statement(ctx context.Context, query string) (*cachedStmt, error) {
	if len(query) > stmtCacheMaxLen {
		return nil, nil
	}
	if s, ok := c.stmts.Get(query); ok {
		if s.busy {
			return nil, nil
		}
		return s, nil
	}
	ds, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	st, ok := ds.(stmt)
	if !ok {
		_ = ds.Close()
		return nil, nil
	}
	s := &cachedStmt{stmt: st}
	c.stmts.Add(query, s)
	c.prepared++
	return s, nil
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.conn.ExecContext(ctx, query, args)
	}
	return s.stmt.ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.conn.QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	s.busy = true
	return &cachedRows{Rows: rows, s: s}, nil
}

// Close closes the cached statements, then the connection.
func (c *cachingConn) Close() error {
	var errs []error
	for _, s := range c.stmts.Values() {
		errs = append(errs, s.stmt.Close())
	}
	c.stmts.Purge()
	return errors.Join(errors.Join(errs...), c.conn.Close())
}

// cachedRows frees its statement for the next call when closed, and
// passes on the column type information the driver's rows have.
type cachedRows struct {
	driver.Rows
	s      *cachedStmt
	closed bool
}

func (r *cachedRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	err := r.Rows.Close()
	r.s.busy = false
	if r.s.evicted {
		err = errors.Join(err, r.s.stmt.Close())
	}
	return err
}

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if t, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return t.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if t, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return t.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *cachedRows) ColumnTypeNullable(i int) (nullable, ok bool) {
	if t, is := r.Rows.(driver.RowsColumnTypeNullable); is {
		return t.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *cachedRows) ColumnTypePrecisionScale(i int) (precision, scale int64, ok bool) {
	if t, is := r.Rows.(driver.RowsColumnTypePrecisionScale); is {
		return t.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if t, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return t.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}
