package userapi_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/ent"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// countingDB wraps db's pool in an ent client that counts the statements
// sent to the database. The platform's driver stays under the counter, so
// a transaction still hands its *sql.Tx to the job queue (the account
// events are published in it).
func countingDB(db *database.DB, n *atomic.Int64) *database.DB {
	drv := dialect.DebugWithContext(database.Classify(entsql.OpenDB(db.Dialect, db.SQL), 0), func(context.Context, ...any) { n.Add(1) })
	return &database.DB{Ent: ent.NewClient(ent.Driver(drv)), SQL: db.SQL, Dialect: db.Dialect}
}

// TestMeCostsOneQuery: GET /api/users/me costs one query, the account,
// once the token's session is in the auth module's session cache, and no
// query beyond the current-user check's (it reuses the account row the
// check loaded); the control (a superuser reading another account) shows
// the counter sees the extra query when one is needed.
func TestMeCostsOneQuery(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		var n atomic.Int64
		app := apptest.Start(t, countingDB(db, &n))
		u := app.NewUser(false)
		root := app.SuperuserToken()

		queries := func(path, token string) int64 {
			t.Helper()
			before := n.Load()
			if res := app.Do(http.MethodGet, path, nil, testkit.Bearer(token)); res.Status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", path, res.Status, res.Body)
			}
			return n.Load() - before
		}
		// The first request looks the session up (auth) and the account
		// (users); /me reuses that account row instead of loading it again.
		if q := queries("/api/users/me", u.Token); q != 2 {
			t.Fatalf("first GET /api/users/me ran %d queries, want 2 (session + account)", q)
		}
		// Then the session comes from the cache; the account is read on
		// every request (its state and role are never cached).
		if q := queries("/api/users/me", u.Token); q != 1 {
			t.Fatalf("GET /api/users/me ran %d queries, want 1 (account)", q)
		}
		queries("/api/users/"+u.ID.String(), root)
		if q := queries("/api/users/"+u.ID.String(), root); q != 2 {
			t.Fatalf("control: GET /api/users/{id} ran %d queries, want 2 (caller + target)", q)
		}

		// The shared record is the caller's own, as of this request: a
		// change made by someone else shows on the next request.
		name := "Changed By Root"
		if res := app.Do(http.MethodPatch, "/api/users/"+u.ID.String(), map[string]any{"full_name": name}, testkit.Bearer(root)); res.Status != http.StatusOK {
			t.Fatalf("patch: %d %s", res.Status, res.Body)
		}
		var me user
		res := app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(u.Token))
		res.JSON(t, &me)
		if me.ID != u.ID || me.FullName != name {
			t.Fatalf("me = %+v, want %s with the new name", me, u.ID)
		}
	})
}

// TestRenameCostsNoPasswordCheck: a rename alone reads no account row
// beyond the current-user check's and hashes nothing (only an email change
// or a sent current password does), so the common write stays as cheap as
// before re-authentication existed; the control, an email change with the
// password, shows the counter sees the extra read.
func TestRenameCostsNoPasswordCheck(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		var n atomic.Int64
		app := apptest.Start(t, countingDB(db, &n))
		u := app.NewUser(false)
		patch := func(body map[string]any) int64 {
			t.Helper()
			before := n.Load()
			if res := app.Do(http.MethodPatch, "/api/users/me", body, testkit.Bearer(u.Token)); res.Status != http.StatusOK {
				t.Fatalf("PATCH %v: %d %s", body, res.Status, res.Body)
			}
			return n.Load() - before
		}
		patch(map[string]any{"full_name": "warm the session cache"})
		rename := patch(map[string]any{"full_name": "Renamed"})
		move := patch(map[string]any{"email": "moved." + u.Email, "current_password": u.Password})
		// The account (the current-user check) and the update's begin,
		// UPDATE, SELECT and commit.
		if rename != 5 {
			t.Fatalf("a rename ran %d statements, want 5", rename)
		}
		if move <= rename {
			t.Fatalf("control: the email change ran %d statements, the rename %d", move, rename)
		}
	})
}

// TestAPIKeyCostsOneLookupMore: once caches are warm, a request with an
// API key runs exactly one statement more than the same request with an
// access token (the key's lookup by its unique index), and the token's
// request runs one (the account cache's version check), on both
// databases; the control, a role renamed, shows the counter sees the
// account being reloaded.
func TestAPIKeyCostsOneLookupMore(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		var n atomic.Int64
		app := apptest.Start(t, countingDB(db, &n))
		u := app.NewUserWith("roles:read")
		var key struct {
			Secret string `json:"secret"`
		}
		app.Do(http.MethodPost, "/api/auth/api-keys", map[string]any{"name": "clé", "permissions": []string{"roles:read"}},
			testkit.Bearer(u.Token)).Expect(http.StatusCreated).JSON(t, &key)
		queries := func(bearer string) int64 {
			t.Helper()
			before := n.Load()
			app.Do(http.MethodGet, "/api/permissions", nil, testkit.Bearer(bearer)).Expect(http.StatusOK)
			return n.Load() - before
		}
		queries(u.Token)
		queries(key.Secret)
		if q := queries(u.Token); q != 1 {
			t.Fatalf("token: %d statements, want 1 (the account's versions)", q)
		}
		if q := queries(key.Secret); q != 2 {
			t.Fatalf("API key: %d statements, want 2 (the key, the account's versions)", q)
		}
		// Renaming any role makes every cached account stale.
		var other role
		app.Do(http.MethodPost, "/api/roles", map[string]any{"name": "other", "permissions": []string{}}, testkit.Bearer(app.SuperuserToken())).
			Expect(http.StatusCreated).JSON(t, &other)
		app.Do(http.MethodPatch, rolePath(other.ID), map[string]any{"name": "autre-名"}, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusOK)
		if q := queries(u.Token); q != 2 {
			t.Fatalf("control: token after a change: %d statements, want 2 (versions, reload)", q)
		}
	})
}
