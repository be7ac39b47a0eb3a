// Package migrator applies and inspects the versioned migrations
// in migrations/, with the Atlas Go library (the Atlas CLI is optional).
//
// Apply: each file runs in its own transaction with its revision row, so a
// failed file leaves nothing behind. atlas.sum is verified, and a file that
// was edited after it was applied is refused (Atlas's own Validate only
// checks that atlas.sum matches the files, not that history is unchanged).
// On Postgres a session advisory lock makes concurrent runs apply each file
// exactly once. Everything runs on the direct pool (DATABASE_DIRECT_URL):
// through a transaction-mode PgBouncer the lock's session would be handed
// to other clients between statements, and its unlock could run on
// another server connection, leaving the lock held.
package migrator

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	"go.uber.org/zap"

	"github.com/acme/monolith/migrations"
	"github.com/acme/monolith/platform/buildinfo"
	"github.com/acme/monolith/platform/database"
)

// lockName is the advisory lock every `migrate up` takes on Postgres.
var lockName = buildinfo.Service + "_migrate"

// ErrEditedAfterApply means an applied migration file no longer has the hash
// recorded when it ran.
var ErrEditedAfterApply = errors.New("an applied migration file was edited")

// Migrator applies the embedded migrations of one database.
type Migrator struct {
	db          *sql.DB
	dialect     string
	dir         *migrate.MemDir
	log         *zap.Logger
	lockTimeout time.Duration
}

// New returns a migrator for db over the embedded directory of its dialect.
func New(db *database.DB, log *zap.Logger) (*Migrator, error) {
	dir, err := EmbeddedDir(db.Dialect)
	if err != nil {
		return nil, err
	}
	return &Migrator{db: db.Direct(), dialect: db.Dialect, dir: dir, log: log, lockTimeout: 5 * time.Minute}, nil
}

// DirName is the directory under migrations/ of a dialect.
func DirName(dia string) string {
	if dia == dialect.Postgres {
		return "postgres"
	}
	return "sqlite"
}

// EmbeddedDir copies the embedded files of a dialect into a fresh MemDir
// (Atlas has no fs.FS adapter, and OpenMemDir is process-global).
func EmbeddedDir(dia string) (*migrate.MemDir, error) {
	return LoadDir(migrations.FS, DirName(dia))
}

// LoadDir copies the migration files and atlas.sum under root of fsys.
func LoadDir(fsys fs.FS, root string) (*migrate.MemDir, error) {
	dir := &migrate.MemDir{}
	entries, err := fs.ReadDir(fsys, root)
	if err != nil {
		return nil, fmt.Errorf("read migrations %s: %w", root, err)
	}
	for _, e := range entries {
		if e.IsDir() || (path.Ext(e.Name()) != ".sql" && e.Name() != migrate.HashFileName) {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(root, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		if err := dir.WriteFile(e.Name(), b); err != nil {
			return nil, err
		}
	}
	return dir, nil
}

// Status lists applied revisions and pending files.
type Status struct {
	Applied []*migrate.Revision
	Pending []migrate.File
	// OutOfOrder are files not applied that sort before the newest
	// applied version; they are not in Pending, and Status returns an
	// *OutOfOrderError naming them.
	OutOfOrder []migrate.File
}

// Status reads the revision table (absent means nothing applied) and
// checks the directory's integrity. With files out of order it returns
// the full status and an *OutOfOrderError, so a caller can show both.
func (m *Migrator) Status(ctx context.Context) (Status, error) {
	if err := migrate.Validate(m.dir); err != nil {
		return Status{}, fmt.Errorf("migration directory %s: %w (after a merge, `make merged` rewrites atlas.sum; otherwise regenerate it only for files not yet applied anywhere)", DirName(m.dialect), err)
	}
	rrw := &revisions{q: m.db, dialect: m.dialect}
	var applied []*migrate.Revision
	exists, err := rrw.tableExists(ctx)
	if err != nil {
		return Status{}, err
	}
	if exists { // status must not write: a missing table means nothing applied
		if applied, err = rrw.ReadRevisions(ctx); err != nil {
			return Status{}, err
		}
	}
	st := Status{Applied: applied}
	st.Pending, st.OutOfOrder, err = m.pending(applied)
	if err != nil {
		return Status{}, err
	}
	if len(st.OutOfOrder) > 0 {
		names := make([]string, len(st.OutOfOrder))
		for i, f := range st.OutOfOrder {
			names[i] = f.Name()
		}
		return st, &OutOfOrderError{Dir: DirName(m.dialect), Files: names, Newest: applied[len(applied)-1].Version, Where: "applied to this database"}
	}
	return st, nil
}

// pending returns the files not yet applied, and apart from them those
// that would apply out of order, refusing edited history and versions
// shared by two files.
func (m *Migrator) pending(applied []*migrate.Revision) (pending, late []migrate.File, err error) {
	files, err := m.dir.Files()
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name()
	}
	if err := CheckVersions(DirName(m.dialect), names); err != nil {
		return nil, nil, err
	}
	sum, err := m.dir.Checksum()
	if err != nil {
		return nil, nil, err
	}
	byVersion := make(map[string]*migrate.Revision, len(applied))
	for _, r := range applied {
		byVersion[r.Version] = r
	}
	last := ""
	if len(applied) > 0 {
		last = applied[len(applied)-1].Version
	}
	for _, f := range files {
		rev, ok := byVersion[f.Version()]
		if !ok {
			if f.Version() < last {
				late = append(late, f)
			} else {
				pending = append(pending, f)
			}
			continue
		}
		if len(late) > 0 {
			// atlas.sum chains each file's hash to the files before it, so
			// a late file changes the hashes of every file after it: they
			// are not edited, and the rebase that moves it restores them.
			continue
		}
		if rev.Description != f.Desc() {
			return nil, nil, fmt.Errorf("%w: %s: version %s is applied as %s_%s, another file (written on another branch in the same second): "+
				"move the file to the head with `app-dev migrate rebase %s`", ErrVersionTaken, DirName(m.dialect), f.Version(), rev.Version, rev.Description, strings.TrimSuffix(f.Name(), ".sql"))
		}
		h, err := sum.SumByName(f.Name())
		if err != nil {
			return nil, nil, err
		}
		if rev.Hash != h {
			return nil, nil, fmt.Errorf("%w: %s changed after it was applied; restore it and put the change in a new migration", ErrEditedAfterApply, f.Name())
		}
		if rev.Applied != rev.Total {
			return nil, nil, fmt.Errorf("migration %s is partially applied (%d of %d statements): %s", f.Name(), rev.Applied, rev.Total, rev.Error)
		}
	}
	return pending, late, nil
}

// Up applies every pending file and returns their names.
func (m *Migrator) Up(ctx context.Context) ([]string, error) {
	unlock, err := m.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := (&revisions{q: m.db, dialect: m.dialect}).createTable(ctx); err != nil {
		return nil, err
	}
	st, err := m.Status(ctx)
	if err != nil {
		return nil, err
	}
	var done []string
	for _, f := range st.Pending {
		start := time.Now()
		if err := m.apply(ctx, f); err != nil {
			return done, err
		}
		m.log.Info("migration applied", zap.String("file", f.Name()), zap.Duration("took", time.Since(start)))
		done = append(done, f.Name())
	}
	return done, nil
}

func (m *Migrator) apply(ctx context.Context, f migrate.File) (err error) {
	sum, err := m.dir.Checksum()
	if err != nil {
		return err
	}
	hash, err := sum.SumByName(f.Name())
	if err != nil {
		return err
	}
	stmts, err := m.statements(f)
	if err != nil {
		return fmt.Errorf("read statements of %s: %w", f.Name(), err)
	}
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("begin %s: %w", f.Name(), err)
	}
	defer func() { _ = conn.Close() }()
	if m.dialect == dialect.SQLite {
		// A file that rebuilds a table (Atlas's plan for most SQLite
		// changes) drops the old one; with foreign keys on, the drop
		// deletes every row that references it, cascading. The file's own
		// PRAGMA foreign_keys = off cannot help: SQLite ignores it inside a
		// transaction. So keys are off for the file's transaction, on this
		// connection only, and checked before it commits.
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = off"); err != nil {
			return fmt.Errorf("begin %s: %w", f.Name(), err)
		}
		defer func() {
			if _, ferr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = on"); ferr != nil {
				// Never hand the pool a connection without foreign keys.
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}()
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin %s: %w", f.Name(), err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if m.dialect == dialect.Postgres {
		// The pool asks for statement_timeout = DB_QUERY_TIMEOUT, meant
		// for requests; a migration (an index on a big table) may run
		// longer. The Job's activeDeadlineSeconds bounds it instead.
		if _, err := tx.ExecContext(ctx, "SET LOCAL statement_timeout = 0"); err != nil {
			return fmt.Errorf("begin %s: %w", f.Name(), err)
		}
	}
	rrw := &revisions{q: tx, dialect: m.dialect}
	// Re-check inside the transaction: a concurrent run (SQLite has no
	// advisory lock) may have applied the file since Status was read.
	if _, err := rrw.ReadRevision(ctx, f.Version()); err == nil {
		return tx.Rollback()
	} else if !errors.Is(err, migrate.ErrRevisionNotExist) {
		return err
	}
	start := time.Now()
	for i, st := range stmts {
		if _, err := tx.ExecContext(ctx, st.Text); err != nil {
			return fmt.Errorf("apply %s: statement %d of %d (line %d): %w", f.Name(), i+1, len(stmts), lineOf(f.Bytes(), st.Pos), err)
		}
	}
	// The row the Atlas CLI would write, so that `atlas migrate apply`
	// can take over an existing database.
	err = rrw.WriteRevision(ctx, &migrate.Revision{
		Version:         f.Version(),
		Description:     f.Desc(),
		Type:            migrate.RevisionTypeExecute,
		Applied:         len(stmts),
		Total:           len(stmts),
		ExecutedAt:      start,
		ExecutionTime:   time.Since(start),
		Hash:            hash,
		OperatorVersion: buildinfo.Service + "-migrator",
	})
	if err != nil {
		return fmt.Errorf("record %s: %w", f.Name(), err)
	}
	if m.dialect == dialect.SQLite {
		if err := foreignKeyCheck(ctx, tx); err != nil {
			return fmt.Errorf("apply %s: %w", f.Name(), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit %s: %w", f.Name(), err)
	}
	return nil
}

// statements splits a file as the Atlas CLI's driver for the dialect does
// (the same scanner options), so both apply the same statements and
// record the same counts. The serving binary links Atlas's migrate
// package only, not its dialect drivers (they bring the HCL toolchain).
func (m *Migrator) statements(f migrate.File) ([]*migrate.Stmt, error) {
	opts := migrate.ScannerOptions{MatchBegin: true}
	if m.dialect == dialect.Postgres {
		opts = migrate.ScannerOptions{MatchBegin: true, MatchBeginAtomic: true, MatchDollarQuote: true, EscapedStringExt: true}
	}
	return (&migrate.Scanner{ScannerOptions: opts}).Scan(string(f.Bytes()))
}

// lineOf is the 1-based line of a byte offset, for error messages.
func lineOf(b []byte, pos int) int {
	return bytes.Count(b[:min(max(pos, 0), len(b))], []byte("\n")) + 1
}

// lock takes the Postgres advisory lock on a connection of its own, with
// the key and the polling the Atlas CLI uses (pg_try_advisory_lock on the
// FNV-32 of the name, backing off up to a second), so that a waiting run
// never holds a transaction open that a CREATE INDEX CONCURRENTLY of the
// running one would wait for. SQLite relies on IMMEDIATE transactions and
// the in-transaction re-check instead.
func (m *Migrator) lock(ctx context.Context) (func(), error) {
	if m.dialect != dialect.Postgres {
		return func() {}, nil
	}
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("acquire migration lock: %w", err)
	}
	h := fnv.New32()
	h.Write([]byte(lockName))
	id := int64(h.Sum32())
	deadline := time.Now().Add(m.lockTimeout)
	for wait := 25 * time.Millisecond; ; wait = min(2*wait, time.Second) {
		var ok bool
		if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", id).Scan(&ok); err != nil {
			_ = conn.Close()
			return nil, fmt.Errorf("acquire migration lock: %w", err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			_ = conn.Close()
			return nil, fmt.Errorf("acquire migration lock: another migration has held it for %s", m.lockTimeout)
		}
		select {
		case <-ctx.Done():
			_ = conn.Close()
			return nil, fmt.Errorf("acquire migration lock: %w", ctx.Err())
		case <-time.After(wait):
		}
	}
	return func() {
		defer func() { _ = conn.Close() }()
		// Not the caller's context: a cancelled run still releases.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		var released bool
		if err := conn.QueryRowContext(ctx, "SELECT pg_advisory_unlock($1)", id).Scan(&released); err != nil || !released {
			m.log.Warn("release migration lock: closing its connection instead", zap.Error(err), zap.Bool("released", released))
			// A session lock lives as long as its connection: a bad
			// connection is closed, not returned to the pool.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}, nil
}

// PendingNames lists the names of pending files.
func (s Status) PendingNames() []string {
	names := make([]string, 0, len(s.Pending))
	for _, f := range s.Pending {
		names = append(names, f.Name())
	}
	return slices.Clip(names)
}

// WithDir returns a copy of m that applies dir instead of the embedded
// directory (tests use it to prove edited history is refused).
func WithDir(m *Migrator, dir *migrate.MemDir) *Migrator {
	c := *m
	c.dir = dir
	return &c
}

// foreignKeyCheck fails if a row references one that does not exist, as
// foreign keys would have refused had they been on, naming the first.
func foreignKeyCheck(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return fmt.Errorf("check foreign keys: %w", err)
	}
	defer func() { _ = rows.Close() }()
	if rows.Next() {
		var table, parent string
		var rowid sql.NullInt64
		var fk int
		if err := rows.Scan(&table, &rowid, &parent, &fk); err != nil {
			return fmt.Errorf("check foreign keys: %w", err)
		}
		return fmt.Errorf("it leaves a row of %s (rowid %d) referencing a missing row of %s: foreign keys would refuse it", table, rowid.Int64, parent)
	}
	return rows.Err()
}
