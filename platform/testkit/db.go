// Package testkit starts the real application, or chosen modules, on a
// fresh database per test (SQLite, and Postgres when reachable) and talks to
// it over real HTTP. Every module's tests use it.
package testkit

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	neturl "net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/migrator"
)

// DefaultPostgresURL is the local server the tests use unless
// TEST_DATABASE_URL says otherwise.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// QueryTimeout is the DB_QUERY_TIMEOUT of test databases: every test runs
// its database calls under a deadline, as production does, with more room
// than the default for a shared machine under -race.
const QueryTimeout = 2 * config.DefaultQueryTimeout

// PostgresURL is the server where each test creates its own database.
func PostgresURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

// PostgresDirectURL is the same server without a pooler in between
// (TEST_DATABASE_DIRECT_URL; PostgresURL when unset). When it differs, the
// tests run behind a transaction-mode PgBouncer (make test-pgbouncer): test
// databases are created and dropped through it, and each test database's
// DATABASE_DIRECT_URL points at it.
func PostgresDirectURL() string {
	if u := os.Getenv("TEST_DATABASE_DIRECT_URL"); u != "" {
		return u
	}
	return PostgresURL()
}

var (
	pgOnce sync.Once
	pgErr  error
)

func postgresReachable() error {
	pgOnce.Do(func() {
		db, err := sql.Open("pgx", PostgresURL())
		if err != nil {
			pgErr = err
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		pgErr = db.PingContext(ctx)
	})
	return pgErr
}

// RequirePostgres skips the test when Postgres is unreachable, and fails it
// instead when CI=true: in CI a skipped database test is a hole, not a pass.
func RequirePostgres(t testing.TB) {
	t.Helper()
	if err := postgresReachable(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Postgres is required in CI but unreachable at TEST_DATABASE_URL (%s): %v", PostgresURL(), err)
		}
		t.Skipf("Postgres unreachable at %s (%v): skipping; set CI=true to make this a failure", PostgresURL(), err)
	}
}

// ReachableDialects is SQLite, plus Postgres when it is reachable (and,
// as in RequirePostgres, a failure when CI=true and it is not). For tests
// that cannot be split per database, such as fuzz targets, which would
// otherwise skip entirely without Postgres.
func ReachableDialects(t testing.TB) []string {
	t.Helper()
	err := postgresReachable()
	switch {
	case err == nil:
		return Dialects
	case os.Getenv("CI") == "true":
		t.Fatalf("Postgres is required in CI but unreachable at TEST_DATABASE_URL (%s): %v", PostgresURL(), err)
	default:
		t.Logf("Postgres unreachable at %s (%v): SQLite only", PostgresURL(), err)
	}
	return []string{dialect.SQLite}
}

// BehindPgBouncer reports whether the tests reach Postgres through a
// pooler (TEST_DATABASE_DIRECT_URL differs from TEST_DATABASE_URL).
func BehindPgBouncer() bool { return PostgresDirectURL() != PostgresURL() }

// Dialects are the databases every database test runs on: SQLite and
// Postgres, or those TEST_DIALECTS lists (comma-separated), so that a
// second run through PgBouncer repeats only the Postgres half.
var Dialects = dialectsFrom(os.Getenv("TEST_DIALECTS"))

func dialectsFrom(env string) []string {
	all := []string{dialect.SQLite, dialect.Postgres}
	if strings.TrimSpace(env) == "" {
		return all
	}
	var out []string
	for _, d := range strings.Split(env, ",") {
		d = strings.TrimSpace(d)
		if d == "sqlite" {
			d = dialect.SQLite
		}
		if !slices.Contains(all, d) {
			panic(fmt.Sprintf("TEST_DIALECTS: unknown dialect %q (want sqlite3 or postgres)", d))
		}
		out = append(out, d)
	}
	return out
}

// ForEachDB runs fn as a subtest on a fresh, migrated database of each
// dialect ("sqlite3", "postgres").
func ForEachDB(t *testing.T, fn func(t *testing.T, db *database.DB)) {
	t.Helper()
	for _, dia := range Dialects {
		t.Run(dia, func(t *testing.T) {
			fn(t, NewDB(t, dia))
		})
	}
}

// NewDB returns a fresh, migrated database of dialect dia, dropped when the
// test ends; configure changes the pool's settings (DB_QUERY_TIMEOUT...).
func NewDB(t testing.TB, dia string, configure ...func(*config.Database)) *database.DB {
	t.Helper()
	db := NewEmptyDB(t, dia, configure...)
	m, err := migrator.New(db, zap.NewNop())
	if err != nil {
		t.Fatalf("migrator: %v", err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatalf("migrate test database: %v", err)
	}
	return db
}

// NewEmptyDB returns a fresh database with no tables.
func NewEmptyDB(t testing.TB, dia string, configure ...func(*config.Database)) *database.DB {
	t.Helper()
	url, direct := NewDatabaseURLs(t, dia)
	cfg := config.Database{URL: url, DirectURL: direct, MaxOpenConns: 10, MaxIdleConns: 5, ConnMaxLifetime: time.Hour, ConnMaxIdleTime: time.Minute,
		QueryTimeout: QueryTimeout}
	for _, f := range configure {
		f(&cfg)
	}
	db, err := database.Open(cfg)
	if err != nil {
		t.Fatalf("open test database: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// NewDatabaseURL creates an empty database and returns its DATABASE_URL;
// the database is removed when the test ends.
func NewDatabaseURL(t testing.TB, dia string) string {
	t.Helper()
	url, _ := NewDatabaseURLs(t, dia)
	return url
}

// NewDatabaseURLs creates an empty database and returns its DATABASE_URL
// and DATABASE_DIRECT_URL (equal unless the tests run behind PgBouncer).
// It is created and dropped on the direct server: DROP DATABASE ... WITH
// (FORCE) there also ends PgBouncer's server connections to it, which a
// DROP through PgBouncer would wait on.
func NewDatabaseURLs(t testing.TB, dia string) (url, direct string) {
	t.Helper()
	if dia == dialect.SQLite {
		url := "sqlite://" + filepath.Join(t.TempDir(), "test.db")
		return url, url
	}
	RequirePostgres(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "test_" + hex.EncodeToString(b[:])
	direct, drop, err := migrator.CreatePostgresDatabase(context.Background(), PostgresDirectURL(), name)
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(drop)
	if PostgresDirectURL() == PostgresURL() {
		return direct, direct
	}
	return WithDatabase(t, PostgresURL(), name), direct
}

// WithDatabase is serverURL naming database name instead.
func WithDatabase(t testing.TB, serverURL, name string) string {
	t.Helper()
	u, err := neturl.Parse(serverURL)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}
