package userapi_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/acme/monolith/cmd/app/apptest"
	entrole "github.com/acme/monolith/ent/role"
	entuser "github.com/acme/monolith/ent/user"
	"github.com/acme/monolith/modules/users/usersvc"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// newSuperuser creates an active superuser through the API with by's
// token and signs it in.
func newSuperuser(t *testing.T, app *apptest.App, by string, n int) apptest.User {
	t.Helper()
	u := apptest.User{Email: fmt.Sprintf("admin-%d-%s@example.test", n, uuid.NewString()[:8]), Password: "superuser passphrase"}
	res := app.Do(http.MethodPost, "/api/users", map[string]any{"email": u.Email, "password": u.Password, "is_superuser": true}, testkit.Bearer(by))
	if res.Status != http.StatusCreated {
		t.Fatalf("create superuser: %d %s", res.Status, res.Body)
	}
	res.JSON(t, &u)
	u.Token = app.Login(u.Email, u.Password)
	return u
}

func activeSuperusers(t *testing.T, db *database.DB) []uuid.UUID {
	t.Helper()
	ids, err := db.Ent.User.Query().Where(entuser.HasRolesWith(entrole.ID(usersvc.AdminRoleID)), entuser.IsActive(true)).IDs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestLastSuperuserSurvivesMutualRemoval: when the only active superusers
// demote, deactivate or delete each other at the same moment (a ring of
// two or three, each sending its request several times, all released
// together), at least one active superuser always remains; a refused
// removal is a 409 last_superuser (or, if its actor was removed first, the
// 401/403 of a caller who is no longer one; a repeated delete is a 404).
func TestLastSuperuserSurvivesMutualRemoval(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		var rootUser user
		app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(app.SuperuserToken())).JSON(t, &rootUser)
		first := newSuperuser(t, app, app.SuperuserToken(), 0)
		// From here on the superusers of each round are the only ones.
		if res := app.Do(http.MethodPatch, "/api/users/"+rootUser.ID.String(), map[string]any{"is_superuser": false}, testkit.Bearer(first.Token)); res.Status != http.StatusOK {
			t.Fatalf("demote the bootstrap superuser: %d %s", res.Status, res.Body)
		}
		survivors := []apptest.User{first}
		const rounds, copies = 30, 4
		for round := range rounds {
			size := 2 + round%2
			ring := append([]apptest.User(nil), survivors[:1]...)
			for len(ring) < size {
				ring = append(ring, newSuperuser(t, app, ring[0].Token, round))
			}
			if got := len(activeSuperusers(t, db)); got != size {
				t.Fatalf("round %d starts with %d active superusers, want %d", round, got, size)
			}
			// Each superuser sends its removal several times at once, so that
			// some copies pass the caller check before any removal commits.
			counts, replies := concurrently(t, size*copies, func(i int) reply {
				by := i % size
				target := ring[(by+1)%size].ID.String()
				switch (round + by) % 3 {
				case 0:
					return send(app, http.MethodPatch, "/api/users/"+target, ring[by].Token, map[string]any{"is_superuser": false})
				case 1:
					return send(app, http.MethodPatch, "/api/users/"+target, ring[by].Token, map[string]any{"is_active": false})
				default:
					return send(app, http.MethodDelete, "/api/users/"+target, ring[by].Token, nil)
				}
			})
			left := activeSuperusers(t, db)
			if len(left) == 0 {
				t.Fatalf("round %d (%d superusers): no active superuser left; replies %v", round, size, counts)
			}
			for _, r := range replies {
				switch r.status {
				case http.StatusOK, http.StatusNoContent, http.StatusUnauthorized, http.StatusNotFound:
				case http.StatusConflict:
					if !strings.Contains(string(r.body), `"last_superuser"`) {
						t.Fatalf("round %d: 409 without last_superuser: %s", round, r.body)
					}
				case http.StatusForbidden:
					// Its actor lost the admin role between requests.
					if !strings.Contains(string(r.body), `"permission_required"`) {
						t.Fatalf("round %d: 403: %s", round, r.body)
					}
				default:
					t.Fatalf("round %d: status %d: %s", round, r.status, r.body)
				}
			}
			survivors = survivors[:0]
			for _, u := range ring {
				for _, id := range left {
					if u.ID == id {
						survivors = append(survivors, u)
					}
				}
			}
		}

		// One active superuser left, alone: they may not remove themselves,
		// and another (non-superuser) account cannot make them.
		last := survivors[0]
		for _, s := range survivors[1:] {
			if res := app.Do(http.MethodPatch, "/api/users/"+s.ID.String(), map[string]any{"is_superuser": false}, testkit.Bearer(last.Token)); res.Status != http.StatusOK {
				t.Fatalf("demote %s: %d %s", s.Email, res.Status, res.Body)
			}
		}
		expectProblem(t, app.Do(http.MethodPatch, "/api/users/"+last.ID.String(), map[string]any{"is_active": false}, testkit.Bearer(last.Token)), http.StatusForbidden)
		if got := activeSuperusers(t, db); len(got) != 1 || got[0] != last.ID {
			t.Fatalf("active superusers = %v, want only %s", got, last.ID)
		}
	})
}

// TestSuperuserRemovalAllowedWhileOneRemains: the guard refuses only what
// would leave no active superuser: removing another while one remains
// works, and an inactive superuser neither counts nor is protected.
func TestSuperuserRemovalAllowedWhileOneRemains(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		root := testkit.Bearer(app.SuperuserToken())
		var rootUser user
		app.Do(http.MethodGet, "/api/users/me", nil, root).JSON(t, &rootUser)
		a := newSuperuser(t, app, app.SuperuserToken(), 0)
		b := newSuperuser(t, app, app.SuperuserToken(), 1)
		// b deactivated: an inactive superuser does not count.
		if res := app.Do(http.MethodPatch, "/api/users/"+b.ID.String(), map[string]any{"is_active": false}, root); res.Status != http.StatusOK {
			t.Fatalf("deactivate b: %d %s", res.Status, res.Body)
		}
		// a removes root: a remains.
		if res := app.Do(http.MethodDelete, "/api/users/"+rootUser.ID.String(), nil, testkit.Bearer(a.Token)); res.Status != http.StatusNoContent {
			t.Fatalf("delete root: %d %s", res.Status, res.Body)
		}
		// Removing the inactive b (no active superuser lost) is allowed.
		if res := app.Do(http.MethodPatch, "/api/users/"+b.ID.String(), map[string]any{"is_superuser": false}, testkit.Bearer(a.Token)); res.Status != http.StatusOK {
			t.Fatalf("demote inactive b: %d %s", res.Status, res.Body)
		}
		if got := activeSuperusers(t, db); len(got) != 1 || got[0] != a.ID {
			t.Fatalf("active superusers = %v, want only a", got)
		}
	})
}
