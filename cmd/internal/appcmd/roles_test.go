package appcmd

import (
	"net/http"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// TestRolesCommands: `app roles` lists the declared permissions, creates
// a role, grants and revokes its permissions and gives it to an account,
// through the users service (unknown permissions and the last admin are
// refused as over HTTP); the account then holds the permission in the
// API.
func TestRolesCommands(t *testing.T) {
	url := testkit.NewDatabaseURL(t, dialect.SQLite)
	env := baseEnv(t, url)
	must := func(want string, args ...string) {
		t.Helper()
		out, err := run(t, env, "", args...)
		if err != nil || !strings.Contains(out, want) {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	refused := func(want string, args ...string) {
		t.Helper()
		if out, err := run(t, env, "", args...); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("%v: err = %v, want %q\n%s", args, err, want, out)
		}
	}
	must("created superuser", "users", "create-superuser", "--email", "admin@example.test", "--password", "admin passphrase")
	must("created superuser", "users", "create-superuser", "--email", "ops@example.test", "--password", "ops passphrase")
	must("List and read every account", "roles", "permissions")
	must("created role support", "roles", "create", "support", "users:read")
	refused("users:raed is not a declared permission", "roles", "create", "typo", "users:raed")
	refused("already exists", "roles", "create", "support")
	must("role support grants roles:read users:read", "roles", "grant", "support", "roles:read")
	must("role support grants users:read", "roles", "revoke", "support", "roles:read")
	refused("Built-in roles", "roles", "grant", "admin", "users:read")
	must("gave role support: ops@example.test", "roles", "assign", "support", "ops@example.test")
	must("took role admin: ops@example.test", "roles", "unassign", "admin", "ops@example.test")
	refused("At least one active admin must remain", "roles", "unassign", "admin", "admin@example.test")
	must("support  users:read", "roles", "list")
	must("admin    (every permission)", "roles", "list")

	db, err := database.Open(config.Database{URL: url, MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	app := apptest.Start(t, db)
	ops := app.Login("ops@example.test", "ops passphrase")
	app.Do(http.MethodGet, "/api/users", nil, testkit.Bearer(ops)).Expect(http.StatusOK)
	app.Do(http.MethodPost, "/api/users", map[string]any{"email": "x@example.test", "password": "x passphrase"}, testkit.Bearer(ops)).Expect(http.StatusForbidden)

	// The commands' changes are in the audit log, made by the system.
	out, err := run(t, env, "", "audit", "list", "--action", "users.role.permissions_set")
	if err != nil || strings.Count(out, "users.role.permissions_set") != 2 || !strings.Contains(out, `"system"`) {
		t.Fatalf("grant and revoke in the audit log: %v\n%s", err, out)
	}
}
