package database_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/ent/user"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// TestLockedDatabaseAnswers503: another session holds the write lock (a
// stuck migration, a backup, an operator's open transaction); writes
// answer 503 database_unavailable within DB_QUERY_TIMEOUT instead of
// waiting for the lock, on both databases, and work again once it is
// released.
func TestLockedDatabaseAnswers503(t *testing.T) {
	for _, dia := range testkit.Dialects {
		t.Run(dia, func(t *testing.T) {
			db := testkit.NewDB(t, dia, func(c *config.Database) { c.QueryTimeout = frozenQueryTimeout })
			app := apptest.Start(t, db)
			token := app.SuperuserToken()
			rename := func(name string) answer {
				return call(app.HTTP, http.MethodPatch, app.URL+"/api/users/me", token, `{"full_name":"`+name+`"}`)
			}
			if a := rename("before"); a.status != http.StatusOK {
				t.Fatalf("control: %v", a)
			}

			ctx := context.Background()
			conn, err := db.SQL.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conn.Close() }()
			lock := []string{"BEGIN", "LOCK TABLE users IN ACCESS EXCLUSIVE MODE"}
			if dia == dialect.SQLite {
				lock = []string{"BEGIN IMMEDIATE"}
			}
			for _, q := range lock {
				if _, err := conn.ExecContext(ctx, q); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}

			app.HTTP.Timeout = 2 * time.Minute // an answer must come; the deadline makes it
			if a := rename("while locked"); a.status != http.StatusServiceUnavailable || a.code != "database_unavailable" {
				t.Fatalf("write while another session holds the lock: %v, want 503 database_unavailable", a)
			}

			if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
				t.Fatal(err)
			}
			if a := rename("after"); a.status != http.StatusOK {
				t.Fatalf("write after the lock was released: %v", a)
			}
		})
	}
}

// TestQueryDeadline checks, on a frozen Postgres, which deadline counts
// and how transactions are bounded: the wrapper's own deadline is
// ErrUnavailable; the caller's cancellation or shorter deadline stays the
// caller's (a context error, so a client abort is not reported as an
// outage); begin, each statement and commit are bounded one by one, and a
// transaction longer than the timeout in total still commits.
func TestQueryDeadline(t *testing.T) {
	if testkit.BehindPgBouncer() {
		// Seen every time: the cancel requests of the calls frozen
		// between the app and PgBouncer make Debian 12's PgBouncer 1.18
		// exit ("bad client state: 0"), and
		// every later test would fail for it (docs/operations.md,
		// "PgBouncer"). The first run, on the server itself, covers
		// the deadlines.
		t.Skip("crashes PgBouncer 1.18 (the run through PgBouncer skips it)")
	}
	db, px := testkit.NewFaultyPostgres(t, 4, func(c *config.Database) {
		c.QueryTimeout = frozenQueryTimeout
		c.URL += "&connect_timeout=600"
	})
	ctx := context.Background()
	count := func(ctx context.Context) error {
		_, err := db.Ent.User.Query().Count(ctx)
		return err
	}

	// A transaction of quick steps, longer in total than the timeout,
	// commits: the deadline is per call, not per transaction.
	tx, err := db.Ent.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.User.Query().Count(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * frozenQueryTimeout)
	if _, err := tx.User.Query().Where(user.IsSuperuser(true)).Count(ctx); err != nil {
		t.Fatalf("second statement of a long transaction: %v", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatalf("commit of a transaction longer than the timeout in total: %v", err)
	}

	px.Freeze()
	t.Cleanup(px.Restore)

	if err := count(ctx); !errors.Is(err, database.ErrUnavailable) {
		t.Errorf("query on a frozen server: %v, want ErrUnavailable", err)
	}
	cancelled, cancel := context.WithCancel(ctx)
	go func() { time.Sleep(frozenQueryTimeout / 3); cancel() }()
	if err := count(cancelled); errors.Is(err, database.ErrUnavailable) || !errors.Is(err, context.Canceled) {
		t.Errorf("query whose caller went away: %v, want context.Canceled and not ErrUnavailable", err)
	}
	short, cancel := context.WithTimeout(ctx, frozenQueryTimeout/3)
	defer cancel()
	if err := count(short); errors.Is(err, database.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("query under the caller's own shorter deadline: %v, want context.DeadlineExceeded and not ErrUnavailable", err)
	}
	if _, err := db.Ent.Tx(ctx); !errors.Is(err, database.ErrUnavailable) {
		t.Errorf("begin on a frozen server: %v, want ErrUnavailable", err)
	}

	// Begun and used before the freeze, committed during it: the commit
	// is bounded too.
	px.Restore()
	tx, err = db.Ent.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.User.Update().Where(user.EmailEQ("nobody@example.test")).SetFullName("x").Save(ctx); err != nil {
		t.Fatal(err)
	}
	px.Freeze()
	if err := tx.Commit(); !errors.Is(err, database.ErrUnavailable) {
		t.Errorf("commit on a frozen server: %v, want ErrUnavailable", err)
	}
	px.Restore()
	tx, err = db.Ent.Tx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	px.Freeze()
	if _, err := tx.User.Query().Count(ctx); !errors.Is(err, database.ErrUnavailable) {
		t.Errorf("statement in a transaction on a frozen server: %v, want ErrUnavailable", err)
	}
	_ = tx.Rollback()

	px.Restore()
	deadline := time.Now().Add(30 * time.Second)
	for count(ctx) != nil {
		if time.Now().After(deadline) {
			t.Fatalf("the pool did not recover: %v", count(ctx))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
