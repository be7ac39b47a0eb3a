// Package database opens the ent client over pgx (postgres:// URLs) or over
// the pure-Go modernc SQLite driver (sqlite://PATH URLs).
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"

	"github.com/acme/monolith/ent"
	"github.com/acme/monolith/platform/config"
)

func init() {
	// ent's helpers (enttest, ent.Open) look a driver up by its dialect name.
	sql.Register(dialect.SQLite, &sqlite.Driver{})
}

// DB is one open database: the ent client the modules use and the raw pool
// that migrations and health checks need.
type DB struct {
	Ent     *ent.Client
	SQL     *sql.DB
	Dialect string // dialect.Postgres or dialect.SQLite
	// QueryTimeout is the deadline of each ent call (DB_QUERY_TIMEOUT);
	// the LISTEN connection pings at this interval too. 0: none.
	QueryTimeout time.Duration
	// direct bypasses a transaction pooler (DATABASE_DIRECT_URL); SQL
	// itself when there is none.
	direct *sql.DB
}

// Direct is the pool for what needs one server session throughout
// (LISTEN, session advisory locks, SET): behind a transaction-mode
// PgBouncer each transaction of SQL may run on another server connection.
// It is SQL itself unless DATABASE_DIRECT_URL names another URL.
func (db *DB) Direct() *sql.DB {
	if db.direct != nil {
		return db.direct
	}
	return db.SQL
}

// Close closes the pools.
func (db *DB) Close() error {
	err := db.Ent.Close()
	if db.direct != nil && db.direct != db.SQL {
		err = errors.Join(err, db.direct.Close())
	}
	return err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.SQL.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", db.Dialect, err)
	}
	return nil
}

// Open opens the database named by cfg.URL. It does not connect: the first
// query (or Ping) does, so constructing the fx graph never touches the network.
func Open(cfg config.Database) (*DB, error) {
	_, dsn, dia, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	var sqlDB *sql.DB
	if dia == dialect.Postgres {
		if sqlDB, err = openPostgres("DATABASE_URL", dsn, cfg.QueryTimeout); err != nil {
			return nil, err
		}
	} else {
		if err := ensureDir(dsn); err != nil {
			return nil, err
		}
		sqlDB = sql.OpenDB(sqliteConnector{drv: &sqlite.Driver{}, dsn: dsn})
	}
	sqlDB.SetMaxOpenConns(cfg.MaxOpenConns)
	sqlDB.SetMaxIdleConns(cfg.MaxIdleConns)
	sqlDB.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	sqlDB.SetConnMaxIdleTime(cfg.ConnMaxIdleTime)
	db := Wrap(sqlDB, dia, cfg.QueryTimeout)
	if dia == dialect.Postgres && cfg.DirectURL != "" && cfg.DirectURL != cfg.URL {
		if db.direct, err = openDirect(cfg); err != nil {
			_ = sqlDB.Close()
			return nil, err
		}
	}
	return db, nil
}

// directConns bounds the direct pool: it serves the LISTEN connection and
// a migration (its lock's session and its transaction), not requests.
const directConns = 4

func openDirect(cfg config.Database) (*sql.DB, error) {
	driver, dsn, dia, err := ParseURL(cfg.DirectURL)
	if err != nil || dia != dialect.Postgres || driver != "pgx" {
		return nil, errors.New("DATABASE_DIRECT_URL: must be a postgres:// URL")
	}
	direct, err := openPostgres("DATABASE_DIRECT_URL", dsn, cfg.QueryTimeout)
	if err != nil {
		return nil, err
	}
	direct.SetMaxOpenConns(directConns)
	direct.SetMaxIdleConns(directConns)
	direct.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	direct.SetConnMaxIdleTime(cfg.ConnMaxIdleTime)
	return direct, nil
}

// Wrap builds a DB around an open pool; every ent call gets queryTimeout
// (0: none).
func Wrap(sqlDB *sql.DB, dia string, queryTimeout time.Duration) *DB {
	drv := Classify(entsql.OpenDB(dia, sqlDB), queryTimeout)
	return &DB{Ent: ent.NewClient(ent.Driver(drv)), SQL: sqlDB, Dialect: dia, QueryTimeout: queryTimeout}
}

// ParseURL turns a DATABASE_URL into a database/sql driver name, DSN and ent
// dialect.
func ParseURL(raw string) (driver, dsn, dia string, err error) {
	switch {
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		if _, err := url.Parse(raw); err != nil {
			return "", "", "", fmt.Errorf("DATABASE_URL: %w", redact(err))
		}
		return "pgx", withConnectTimeout(raw), dialect.Postgres, nil
	case strings.HasPrefix(raw, "sqlite://"):
		path := strings.TrimPrefix(raw, "sqlite://")
		if path == "" {
			return "", "", "", errors.New("DATABASE_URL: sqlite:// needs a file path, e.g. sqlite://./var/app.db")
		}
		return "sqlite", SQLiteDSN(path), dialect.SQLite, nil
	default:
		return "", "", "", errors.New("DATABASE_URL: must start with postgres://, postgresql:// or sqlite://")
	}
}

// withConnectTimeout bounds a connection attempt (pgx waits for the OS
// otherwise, which can be minutes when packets are dropped), so a request
// during an outage fails fast instead of hanging.
func withConnectTimeout(raw string) string {
	if strings.Contains(raw, "connect_timeout=") {
		return raw
	}
	if strings.Contains(raw, "?") {
		return raw + "&connect_timeout=5"
	}
	return raw + "?connect_timeout=5"
}

// SQLiteDSN adds the pragmas every connection needs: foreign keys on, WAL so
// readers do not block the writer, a busy timeout instead of instant
// SQLITE_BUSY, and IMMEDIATE transactions so concurrent writers queue
// instead of deadlocking on a lock upgrade.
func SQLiteDSN(path string) string {
	q := "_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	if strings.Contains(path, "?") {
		return "file:" + path + "&" + q
	}
	return "file:" + path + "?" + q
}

func ensureDir(dsn string) error {
	path := strings.TrimPrefix(dsn, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == ":memory:" || strings.Contains(dsn, "mode=memory") {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("create database directory: %w", err)
	}
	return nil
}

// redact drops the URL from a parse error: it may hold a password.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Checker reports database reachability for /readyz.
type Checker struct{ db *DB }

// NewChecker returns the readiness check of the database.
func NewChecker(db *DB) *Checker { return &Checker{db: db} }

// Name implements health.Check.
func (*Checker) Name() string { return "database" }

// Check pings with a short deadline so a hung database fails readiness fast.
func (c *Checker) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return c.db.Ping(ctx)
}
