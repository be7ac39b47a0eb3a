package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acme/monolith/platform/config"
)

// openSQLite opens a fresh SQLite file database as the application does,
// with one connection, so every call below meets the same cache.
func openSQLite(t *testing.T) *DB {
	t.Helper()
	db, err := Open(config.Database{URL: "sqlite://" + filepath.Join(t.TempDir(), "cache.db"), MaxOpenConns: 1, MaxIdleConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	mustExec(t, db.SQL, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL UNIQUE)")
	for i := 1; i <= 3; i++ {
		mustExec(t, db.SQL, "INSERT INTO notes (id, body) VALUES (?, ?)", i, fmt.Sprintf("note %d ✓", i))
	}
	return db
}

func mustExec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// cacheOf reports the pool's one connection's cache: how many statements
// it holds and how many it has prepared so far.
func cacheOf(t *testing.T, db *sql.DB) (held, prepared int) {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	if err := conn.Raw(func(dc any) error {
		c, ok := dc.(*cachingConn)
		if !ok {
			return fmt.Errorf("the connection is a %T, not a caching one", dc)
		}
		held, prepared = c.stmts.Len(), c.prepared
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return held, prepared
}

func bodyOf(t *testing.T, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id int) string {
	t.Helper()
	var body string
	if err := q.QueryRowContext(context.Background(), "SELECT body FROM notes WHERE id = ?", id).Scan(&body); err != nil {
		t.Fatalf("note %d: %v", id, err)
	}
	return body
}

// TestSQLiteStatementPreparedOnce: a statement run again on a connection
// is not prepared again, and each run sees its own arguments.
func TestSQLiteStatementPreparedOnce(t *testing.T) {
	db := openSQLite(t)
	_, before := cacheOf(t, db.SQL)
	for i := 1; i <= 3; i++ {
		if got, want := bodyOf(t, db.SQL, i), fmt.Sprintf("note %d ✓", i); got != want {
			t.Errorf("note %d: %q, want %q", i, got, want)
		}
	}
	for i := range 3 {
		mustExec(t, db.SQL, "UPDATE notes SET body = ? WHERE id = ?", fmt.Sprintf("édité %d", i), 1)
	}
	if got := bodyOf(t, db.SQL, 1); got != "édité 2" {
		t.Errorf("after the updates: %q", got)
	}
	if _, after := cacheOf(t, db.SQL); after-before != 2 {
		t.Errorf("two distinct statements, run seven times, were prepared %d times", after-before)
	}
}

// TestSQLiteCachedStatementNestedInOpenRows: while the rows of a cached
// statement are open, the same query on the same connection (a nested
// read in a transaction) gets its own answer and leaves the open rows
// whole.
func TestSQLiteCachedStatementNestedInOpenRows(t *testing.T) {
	db := openSQLite(t)
	ctx := context.Background()
	tx, err := db.SQL.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	const q = "SELECT id, body FROM notes WHERE id >= ? ORDER BY id"
	rows, err := tx.QueryContext(ctx, q, 1)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int
	for rows.Next() {
		var id int
		var body string
		if err := rows.Scan(&id, &body); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		// The same statement, other arguments, while the outer rows are open.
		var inner int
		if err := tx.QueryRowContext(ctx, q, 3).Scan(&inner, &body); err != nil || inner != 3 {
			t.Fatalf("nested query: %d, %v", inner, err)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids) != "[1 2 3]" {
		t.Errorf("the outer rows read %v, want [1 2 3]", ids)
	}
}

// TestSQLiteCachedStatementEvictedWhileOpen: a statement pushed out of the
// cache while its rows are open stays usable until they close.
func TestSQLiteCachedStatementEvictedWhileOpen(t *testing.T) {
	db := openSQLite(t)
	ctx := context.Background()
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	rows, err := conn.QueryContext(ctx, "SELECT id FROM notes ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() {
		t.Fatal("no first row")
	}
	for i := range stmtCacheSize + 5 {
		var n int
		if err := conn.QueryRowContext(ctx, fmt.Sprintf("SELECT %d + count(*) FROM notes", i)).Scan(&n); err != nil || n != i+3 {
			t.Fatalf("filler %d: %d, %v", i, n, err)
		}
	}
	var ids []int
	for ok := true; ok; ok = rows.Next() {
		var id int
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids) != "[1 2 3]" {
		t.Errorf("rows of the evicted statement: %v", ids)
	}
}

// TestSQLiteCachedStatementSurvivesFailures: a statement that failed (a
// constraint, a cancelled context) answers correctly the next time, and a
// schema change made on another connection is seen by it.
func TestSQLiteCachedStatementSurvivesFailures(t *testing.T) {
	db := openSQLite(t)
	db.SQL.SetMaxOpenConns(2)
	ctx := context.Background()
	const insert = "INSERT INTO notes (id, body) VALUES (?, ?)"
	if _, err := db.SQL.ExecContext(ctx, insert, 9, "note 1 ✓"); err == nil || !strings.Contains(err.Error(), "UNIQUE") {
		t.Fatalf("duplicate body: %v, want a unique violation", err)
	}
	mustExec(t, db.SQL, insert, 9, "note 9")

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := db.SQL.QueryContext(cancelled, "SELECT body FROM notes WHERE id = ?", 9); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled query: %v", err)
	}
	if got := bodyOf(t, db.SQL, 9); got != "note 9" {
		t.Errorf("after a cancelled run: %q", got)
	}

	// Another connection changes the table under a cached statement.
	a, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Close() }()
	b, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Close() }()
	const all = "SELECT * FROM notes WHERE id = ?"
	if err := a.QueryRowContext(ctx, all, 9).Scan(new(int), new(string)); err != nil {
		t.Fatal(err)
	}
	if _, err := b.ExecContext(ctx, "ALTER TABLE notes ADD COLUMN tag TEXT NOT NULL DEFAULT 'ß'"); err != nil {
		t.Fatal(err)
	}
	var tag string
	if err := a.QueryRowContext(ctx, all, 9).Scan(new(int), new(string), &tag); err != nil || tag != "ß" {
		t.Fatalf("after the schema change: %q, %v", tag, err)
	}
	if _, err := a.ExecContext(ctx, insert, 10, "note 10"); err != nil {
		t.Fatalf("insert after the schema change: %v", err)
	}
}
