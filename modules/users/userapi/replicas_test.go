package userapi_test

import (
	"net/http"
	"testing"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/testkit"
)

// TestRoleChangesReachEveryReplica runs two replicas on one Postgres
// database, each with its session and account caches warm: a role given,
// changed, renamed or taken, and the account's deactivation, on one
// replica apply to the very next request on the other, with no wait and
// no message between them (every request checks the cached account's
// versions in the database).
func TestRoleChangesReachEveryReplica(t *testing.T) {
	db := testkit.NewDB(t, "postgres")
	long := testkit.WithEnv("SESSION_CACHE_TTL", "1m")
	a := apptest.Start(t, db, long)
	b := apptest.Start(t, db, long)
	u := a.NewUser(false)
	b.Do(http.MethodGet, "/api/users", nil, testkit.Bearer(u.Token)).Expect(http.StatusForbidden) // b has the session cached from here on

	var r role
	a.Do(http.MethodPost, "/api/roles", map[string]any{"name": "readers", "permissions": []string{"users:read"}}, testkit.Bearer(a.SuperuserToken())).
		Expect(http.StatusCreated).JSON(t, &r)
	a.Do(http.MethodPut, membership(u.ID, r.ID), nil, testkit.Bearer(a.SuperuserToken())).Expect(http.StatusOK)
	b.Do(http.MethodGet, "/api/users", nil, testkit.Bearer(u.Token)).Expect(http.StatusOK)

	a.Do(http.MethodPut, rolePath(r.ID)+"/permissions", map[string]any{"permissions": []string{"roles:read"}}, testkit.Bearer(a.SuperuserToken())).Expect(http.StatusOK)
	b.Do(http.MethodGet, "/api/users", nil, testkit.Bearer(u.Token)).Expect(http.StatusForbidden)
	b.Do(http.MethodGet, "/api/roles", nil, testkit.Bearer(u.Token)).Expect(http.StatusOK)

	a.Do(http.MethodPatch, rolePath(r.ID), map[string]any{"name": "lesende-ü"}, testkit.Bearer(a.SuperuserToken())).Expect(http.StatusOK)
	var renamed me
	b.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(u.Token)).Expect(http.StatusOK).JSON(t, &renamed)
	if len(renamed.Roles) != 1 || renamed.Roles[0].Name != "lesende-ü" {
		t.Fatalf("me on b after the rename = %+v", renamed)
	}

	a.Do(http.MethodDelete, rolePath(r.ID), nil, testkit.Bearer(a.SuperuserToken())).Expect(http.StatusNoContent)
	b.Do(http.MethodGet, "/api/roles", nil, testkit.Bearer(u.Token)).Expect(http.StatusForbidden)
	var m me
	b.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(u.Token)).Expect(http.StatusOK).JSON(t, &m)
	if len(m.Permissions) != 0 || len(m.Roles) != 0 {
		t.Fatalf("me on b = %+v", m)
	}

	a.Do(http.MethodPatch, "/api/users/"+u.ID.String(), map[string]any{"is_active": false}, testkit.Bearer(a.SuperuserToken())).Expect(http.StatusOK)
	b.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(u.Token)).Expect(http.StatusUnauthorized)
}
