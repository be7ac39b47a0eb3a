package database_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/migrator"
	"github.com/acme/monolith/platform/testkit"
)

// execMode is what DATABASE_URL carries behind a transaction pooler:
// statements go unprepared (unnamed, parsed and run in one round trip),
// so no server connection keeps state a later transaction relies on.
const execMode = "default_query_exec_mode=exec"

// tokenPath is the sign-in endpoint (the platform's tests import no module).
const tokenPath = "/api/auth/login"

// behindPgBouncer opens a fresh database through a transaction-mode
// PgBouncer whose pool holds poolSize server connections, with the
// direct URL for what needs a session, and migrates it (through the
// direct URL, as the migrator always does).
func behindPgBouncer(t *testing.T, poolSize int, query string) (*database.DB, *testkit.PgBouncer) {
	t.Helper()
	pgb := testkit.StartPgBouncer(t, poolSize)
	_, direct := testkit.NewDatabaseURLs(t, "postgres")
	db, err := database.Open(config.Database{URL: pgb.URL(t, direct, query), DirectURL: direct,
		MaxOpenConns: 20, MaxIdleConns: 20, ConnMaxLifetime: time.Hour, ConnMaxIdleTime: time.Hour,
		QueryTimeout: testkit.QueryTimeout})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	m, err := migrator.New(db, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatalf("migrate through the direct URL: %v", err)
	}
	return db, pgb
}

// TestPgBouncerServesBurst: the app behind a transaction-mode PgBouncer
// (pool of 2 server connections) answers a burst of 24 clients signing in
// and reading their account at once, each request a 200.
func TestPgBouncerServesBurst(t *testing.T) {
	db, pgb := behindPgBouncer(t, 2, execMode)
	const clients = 24
	// Every sign-in may wait for a hashing slot: the pooler is under test,
	// not the hashing queue's backpressure (503 past 8 × CPUs waiting).
	app := apptest.Start(t, db, testkit.WithConfig(func(c *config.Config) {
		c.Password.Queue, c.Password.QueueTimeout = 2*clients, 30*time.Second
	}))
	if clients <= 4*pgb.PoolSize {
		t.Fatal("the burst must outnumber the pooler's server connections")
	}
	// One account per client: concurrent sign-ins of one account count
	// against its attempt limit.
	users := make([]apptest.User, clients)
	for i := range users {
		users[i] = app.NewUser(false)
	}
	var wg sync.WaitGroup
	errs := make(chan string, clients*3)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := users[i%len(users)]
			res := app.Do(http.MethodPost, tokenPath, url.Values{
				"grant_type": {"password"}, "username": {u.Email}, "password": {u.Password},
			})
			var grant struct {
				AccessToken string `json:"access_token"`
			}
			if res.Status != http.StatusOK || json.Unmarshal(res.Body, &grant) != nil {
				errs <- fmt.Sprintf("sign-in: %d %s", res.Status, res.Body)
				return
			}
			tok := grant.AccessToken
			for range 2 {
				res := app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(tok))
				if res.Status != http.StatusOK {
					errs <- fmt.Sprintf("GET /api/users/me: %d %s", res.Status, res.Body)
				}
			}
			// A write too: the session's last-used stamp or a rename goes
			// through a transaction on whichever server connection is free.
			res = app.Do(http.MethodPatch, "/api/users/me", map[string]any{"full_name": "Zoë 東京 " + fmt.Sprint(i)}, testkit.Bearer(tok))
			if res.Status != http.StatusOK {
				errs <- fmt.Sprintf("PATCH /api/users/me: %d %s", res.Status, res.Body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestPgBouncerCachedStatementsBreak is the control: with pgx's default
// (a named prepared statement per query, cached per client connection)
// two client connections sharing PgBouncer's single server connection
// collide on the same statement name; the same steps with execMode work.
func TestPgBouncerCachedStatementsBreak(t *testing.T) {
	pgb := testkit.StartPgBouncer(t, 1)
	_, direct := testkit.NewDatabaseURLs(t, "postgres")
	twoClients := func(query string) error {
		db, err := database.Open(config.Database{URL: pgb.URL(t, direct, query), MaxOpenConns: 2, MaxIdleConns: 2,
			ConnMaxLifetime: time.Hour, ConnMaxIdleTime: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = db.Close() }()
		ctx := context.Background()
		var conns [2]*sql.Conn
		for i := range conns {
			if conns[i], err = db.SQL.Conn(ctx); err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conns[i].Close() }()
		}
		for round := range 2 {
			for _, c := range conns {
				var n int
				if err := c.QueryRowContext(ctx, "SELECT $1::int + 1", round).Scan(&n); err != nil {
					return err
				}
			}
		}
		return nil
	}
	err := twoClients("")
	if err == nil || !strings.Contains(err.Error(), "prepared statement") {
		t.Fatalf("cached statements through a transaction pooler: %v, want a prepared statement error", err)
	}
	t.Logf("without %s: %v", execMode, err)
	if err := twoClients(execMode); err != nil {
		t.Fatalf("with %s: %v", execMode, err)
	}
}

// TestPgBouncerRevocationReachesReplica: two replicas behind PgBouncer;
// their session caches listen on the direct URL, so a logout on one ends
// the session on the other well before the cache's TTL. Through the
// pooler alone LISTEN would hear nothing.
func TestPgBouncerRevocationReachesReplica(t *testing.T) {
	db, _ := behindPgBouncer(t, 2, execMode)
	long := testkit.WithEnv("SESSION_CACHE_TTL", "1m")
	a := apptest.Start(t, db, long)
	b := apptest.Start(t, db, long)

	// Both listeners are sessions on the server itself, not PgBouncer's.
	var listeners int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if err := db.Direct().QueryRowContext(context.Background(),
			`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %' AND application_name <> 'pgbouncer'`).Scan(&listeners); err != nil {
			t.Fatal(err)
		}
		if listeners == 2 || time.Now().After(deadline) {
			break
		}
	}
	if listeners != 2 {
		t.Errorf("%d listeners on the direct URL, want 2", listeners)
	}

	u := a.NewUser(false)
	if res := b.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(u.Token)); res.Status != http.StatusOK {
		t.Fatalf("replica b: %d %s", res.Status, res.Body)
	}
	if res := a.Do(http.MethodPost, "/api/auth/logout", nil, testkit.Bearer(u.Token)); res.Status >= 300 {
		t.Fatalf("logout on a: %d %s", res.Status, res.Body)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		res := b.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(u.Token))
		if res.Status == http.StatusUnauthorized {
			return
		}
		if res.Status != http.StatusOK || time.Now().After(deadline) {
			t.Fatalf("replica b still answers %d after the logout on a", res.Status)
		}
	}
}

// TestPgBouncerConcurrentMigrations: three `migrate up` at once with
// DATABASE_URL through PgBouncer apply each file once, on the direct URL
// under its session advisory lock, which none of them leaves held.
func TestPgBouncerConcurrentMigrations(t *testing.T) {
	pgb := testkit.StartPgBouncer(t, 2)
	_, direct := testkit.NewDatabaseURLs(t, "postgres")
	cfg := config.Database{URL: pgb.URL(t, direct, execMode), DirectURL: direct, MaxOpenConns: 5, MaxIdleConns: 5,
		ConnMaxLifetime: time.Hour, ConnMaxIdleTime: time.Hour, QueryTimeout: testkit.QueryTimeout}
	var wg sync.WaitGroup
	applied := make([]int, 3)
	errs := make([]error, 3)
	for i := range applied {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := database.Open(cfg)
			if err != nil {
				errs[i] = err
				return
			}
			defer func() { _ = db.Close() }()
			m, err := migrator.New(db, zap.NewNop())
			if err != nil {
				errs[i] = err
				return
			}
			files, err := m.Up(context.Background())
			applied[i], errs[i] = len(files), err
		}()
	}
	wg.Wait()
	total := 0
	for i := range applied {
		if errs[i] != nil {
			t.Fatalf("migrate up %d: %v", i, errs[i])
		}
		total += applied[i]
	}
	dir, err := migrator.EmbeddedDir("postgres")
	if err != nil {
		t.Fatal(err)
	}
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	if total != len(files) {
		t.Fatalf("applied %d files in all, want each of %d once", total, len(files))
	}
	db, err := database.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	var locks int
	if err := db.Direct().QueryRowContext(context.Background(),
		`SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&locks); err != nil {
		t.Fatal(err)
	}
	if locks != 0 {
		t.Fatalf("%d advisory locks still held after the migrations", locks)
	}
	app := apptest.Start(t, db)
	if res := app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(app.SuperuserToken())); res.Status != http.StatusOK {
		t.Fatalf("after migrating: %d %s", res.Status, res.Body)
	}
}
