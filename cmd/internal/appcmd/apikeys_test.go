package appcmd

import (
	"net/http"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/pquerna/otp/totp"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// TestAPIKeysCommands: `app api-keys` creates a key for an account within
// what it holds (more is refused as over HTTP), lists it without its
// secret and revokes it; the printed secret works in the API until then.
func TestAPIKeysCommands(t *testing.T) {
	url := testkit.NewDatabaseURL(t, dialect.SQLite)
	env := baseEnv(t, url)
	if out, err := run(t, env, "", "users", "create-superuser", "--email", "admin@example.test", "--password", "admin passphrase"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if out, err := run(t, env, "", "api-keys", "create", "admin@example.test", "nope:nothing"); err == nil {
		t.Fatalf("an undeclared permission was accepted:\n%s", out)
	}
	if _, err := run(t, env, "", "api-keys", "create", "nobody@example.test"); err == nil {
		t.Fatal("a key for an unknown account was created")
	}
	out, err := run(t, env, "", "api-keys", "create", "admin@example.test", "users:read", "--name", "nightly export", "--ttl", "2h")
	if err != nil || !strings.Contains(out, "created API key") {
		t.Fatalf("%v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	secret := lines[len(lines)-1]
	id := strings.Fields(lines[0])[3]
	if !strings.HasPrefix(secret, "mkp_") {
		t.Fatalf("secret line %q", secret)
	}
	list, err := run(t, env, "", "api-keys", "list", "admin@example.test")
	if err != nil || !strings.Contains(list, "nightly export") || !strings.Contains(list, secret[:8]) || strings.Contains(list, secret) {
		t.Fatalf("list: %v\n%s", err, list)
	}

	db, err := database.Open(config.Database{URL: url, MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	app := apptest.Start(t, db)
	app.Do(http.MethodGet, "/api/users", nil, testkit.Bearer(secret)).Expect(http.StatusOK)
	app.Do(http.MethodPost, "/api/users", map[string]any{"email": "x@example.test", "password": "x passphrase"}, testkit.Bearer(secret)).Expect(http.StatusForbidden)
	if out, err := run(t, env, "", "api-keys", "revoke", "admin@example.test", id); err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %v\n%s", err, out)
	}
	app.Do(http.MethodGet, "/api/users", nil, testkit.Bearer(secret)).Expect(http.StatusUnauthorized)
}

// TestServiceAccountCommands: `app service-accounts create` makes an
// account that holds roles like any other and acts through a service key
// (mks_) from `app api-keys create`, and never signs in with a password.
func TestServiceAccountCommands(t *testing.T) {
	url := testkit.NewDatabaseURL(t, dialect.SQLite)
	env := baseEnv(t, url)
	for _, args := range [][]string{
		{"users", "create-superuser", "--email", "admin@example.test", "--password", "admin passphrase"},
		{"service-accounts", "create", "ci@service.invalid", "--name", "CI"},
		{"roles", "create", "reader", "users:read"},
		{"roles", "assign", "reader", "ci@service.invalid"},
	} {
		if out, err := run(t, env, "", args...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	if out, err := run(t, env, "", "service-accounts", "create", "ci@service.invalid"); err == nil {
		t.Fatalf("a second account with the email:\n%s", out)
	}
	out, err := run(t, env, "", "api-keys", "create", "ci@service.invalid", "users:read")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	secret := lines[len(lines)-1]
	if !strings.HasPrefix(secret, "mks_") {
		t.Fatalf("service key %q", secret)
	}
	db, err := database.Open(config.Database{URL: url, MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	app := apptest.Start(t, db)
	app.Do(http.MethodGet, "/api/users", nil, testkit.Bearer(secret)).Expect(http.StatusOK)
}

// TestMFACommands: `app mfa status` reports an account's second factor
// and `app mfa reset` removes it, after which the password alone signs in.
func TestMFACommands(t *testing.T) {
	url := testkit.NewDatabaseURL(t, dialect.SQLite)
	env := baseEnv(t, url)
	if out, err := run(t, env, "", "users", "create-superuser", "--email", "admin@example.test", "--password", "admin passphrase"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if out, err := run(t, env, "", "mfa", "status", "admin@example.test"); err != nil || !strings.Contains(out, "no second factor") {
		t.Fatalf("status before: %v\n%s", err, out)
	}
	db, err := database.Open(config.Database{URL: url, MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	app := apptest.Start(t, db)
	token := app.Login("admin@example.test", "admin passphrase")
	var e struct {
		Secret string `json:"secret"`
	}
	app.Do(http.MethodPost, "/api/auth/mfa/enrolment", nil, testkit.Bearer(token)).Expect(http.StatusOK).JSON(t, &e)
	c, err := totp.GenerateCode(e.Secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	app.Do(http.MethodPost, "/api/auth/mfa/enrolment/confirm", map[string]string{"code": c}, testkit.Bearer(token)).Expect(http.StatusOK)
	if out, err := run(t, env, "", "mfa", "status", "admin@example.test"); err != nil || !strings.Contains(out, "enabled since") || !strings.Contains(out, "10 recovery codes") {
		t.Fatalf("status enrolled: %v\n%s", err, out)
	}
	login := neturl.Values{"grant_type": {"password"}, "username": {"admin@example.test"}, "password": {"admin passphrase"}}
	app.Do(http.MethodPost, "/api/auth/login", login).Expect(http.StatusForbidden)
	if out, err := run(t, env, "", "mfa", "reset", "admin@example.test"); err != nil || !strings.Contains(out, "removed") {
		t.Fatalf("reset: %v\n%s", err, out)
	}
	app.Do(http.MethodPost, "/api/auth/login", login).Expect(http.StatusOK)
}
