package authapi_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/testkit"
)

// TestRevocationReachesEveryReplica runs two replicas on one Postgres
// database. Each caches the sessions it has checked; a revocation on one
// must end the session on the other too (through LISTEN/NOTIFY), for a
// single session, for all of a user's sessions, and again after the
// listeners' connections were killed and came back.
func TestRevocationReachesEveryReplica(t *testing.T) {
	db := testkit.NewDB(t, "postgres")
	// A TTL far beyond the waits below: only an announcement can end a
	// cached session in time.
	long := testkit.WithEnv("SESSION_CACHE_TTL", "1m")
	a := apptest.Start(t, db, long)
	b := apptest.Start(t, db, long)

	// refused waits for b to refuse token; announcements travel
	// asynchronously, like a request already in flight at revocation.
	refused := func(what, token string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			res := b.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(token))
			if res.Status == http.StatusUnauthorized {
				return
			}
			if res.Status != http.StatusOK || time.Now().After(deadline) {
				t.Fatalf("%s: replica b still answers %d", what, res.Status)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	cached := func(token string) {
		t.Helper()
		if res := b.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(token)); res.Status != http.StatusOK {
			t.Fatalf("replica b: %d %s", res.Status, res.Body)
		}
	}

	u := a.NewUser(false)
	cached(u.Token)
	if res := a.Do(http.MethodPost, "/api/auth/logout", nil, testkit.Bearer(u.Token)); res.Status >= 300 {
		t.Fatalf("logout on a: %d %s", res.Status, res.Body)
	}
	refused("logout", u.Token)

	t1, t2 := a.Login(u.Email, u.Password), a.Login(u.Email, u.Password)
	cached(t1)
	cached(t2)
	if res := a.Do(http.MethodPost, "/api/auth/logout-all", nil, testkit.Bearer(t1)); res.Status >= 300 {
		t.Fatalf("logout-all on a: %d %s", res.Status, res.Body)
	}
	refused("logout-all, the caller's token", t1)
	refused("logout-all, another session", t2)

	// Kill both listeners' connections; they come back by themselves.
	ctx := context.Background()
	const listeners = `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`
	var killed int
	if err := db.SQL.QueryRowContext(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'`).Scan(&killed); err != nil || killed != 2 {
		t.Fatalf("terminated %d listeners (%v), want 2", killed, err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		if err := db.SQL.QueryRowContext(ctx, listeners).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of 2 listeners came back", n)
		}
	}
	t3 := a.Login(u.Email, u.Password)
	cached(t3)
	if res := a.Do(http.MethodPost, "/api/auth/logout", nil, testkit.Bearer(t3)); res.Status >= 300 {
		t.Fatalf("logout on a: %d %s", res.Status, res.Body)
	}
	refused("logout after the listeners reconnected", t3)
}

// TestOneConnectionPoolLeavesTheCacheOff: with a single pool connection
// the listener would starve every request, so the cache stays off and
// requests are served.
func TestOneConnectionPoolLeavesTheCacheOff(t *testing.T) {
	db := testkit.NewDB(t, "postgres")
	db.SQL.SetMaxOpenConns(1)
	app := apptest.Start(t, db)
	u := app.NewUser(false)
	for range 2 {
		if res := app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(u.Token)); res.Status != http.StatusOK {
			t.Fatalf("GET /api/users/me: %d %s", res.Status, res.Body)
		}
	}
	if res := app.Do(http.MethodPost, "/api/auth/logout", nil, testkit.Bearer(u.Token)); res.Status >= 300 {
		t.Fatalf("logout: %d %s", res.Status, res.Body)
	}
	if res := app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(u.Token)); res.Status != http.StatusUnauthorized {
		t.Fatalf("after logout: %d", res.Status)
	}
}
