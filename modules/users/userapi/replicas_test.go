package userapi_test

import (
	"net/http"
	"testing"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/testkit"
)

// TestRoleChangesReachEveryReplica runs two replicas on one Postgres
// database, each with its session cache warm: a role given, changed or
// taken on one replica applies to the very next request on the other,
// with no wait (the account and its roles are read with every request,
// never cached), while the session cache stays in use.
func TestRoleChangesReachEveryReplica(t *testing.T) {
	db := testkit.NewDB(t, "postgres")
	long := testkit.WithEnv("SESSION_CACHE_TTL", "1m")
	a := apptest.Start(t, db, long)
	b := apptest.Start(t, db, long)
	u := a.NewUser(false)
	onB := b.As(u)
	onB.Get("/api/users").Expect(http.StatusForbidden) // b has the session cached from here on

	var r role
	a.AsSuperuser().Post("/api/roles", map[string]any{"name": "readers", "permissions": []string{"users:read"}}).
		Expect(http.StatusCreated).JSON(t, &r)
	a.AsSuperuser().Put(membership(u.ID, r.ID), nil).Expect(http.StatusOK)
	onB.Get("/api/users").Expect(http.StatusOK)

	a.AsSuperuser().Put(rolePath(r.ID)+"/permissions", map[string]any{"permissions": []string{"roles:read"}}).Expect(http.StatusOK)
	onB.Get("/api/users").Expect(http.StatusForbidden)
	onB.Get("/api/roles").Expect(http.StatusOK)

	a.AsSuperuser().Delete(rolePath(r.ID)).Expect(http.StatusNoContent)
	onB.Get("/api/roles").Expect(http.StatusForbidden)
	var m me
	onB.Get("/api/users/me").Expect(http.StatusOK).JSON(t, &m)
	if len(m.Permissions) != 0 || len(m.Roles) != 0 {
		t.Fatalf("me on b = %+v", m)
	}
}
