package appcmd

import (
	"context"
	"strings"
	"testing"

	"entgo.io/ent/dialect"
	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/cmd/internal/clitest"
	"github.com/acme/monolith/ent/role"
	"github.com/acme/monolith/ent/user"
	"github.com/acme/monolith/modules/users/usersvc"
	"github.com/acme/monolith/platform"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/testkit"
)

// run executes the CLI in-process with the given environment.
func run(t *testing.T, env map[string]string, stdin string, args ...string) (string, error) {
	t.Helper()
	return clitest.Run(t, NewRoot(nil), env, stdin, args...)
}

func baseEnv(t *testing.T, url string) map[string]string {
	return map[string]string{
		"DATABASE_URL":    url,
		"JWT_PRIVATE_KEY": testkit.SigningKeyPEM(t),
		"LOG_LEVEL":       "warn",
		// Cheap hashing keeps the test fast; production refuses these.
		"PASSWORD_HASH_MEMORY_KIB": "1024",
		"PASSWORD_HASH_ITERATIONS": "1",
	}
}

// TestCreateSuperuser goes through the users service (its validation
// applies) and the account can then sign in through the API.
func TestCreateSuperuser(t *testing.T) {
	for _, dia := range testkit.Dialects {
		t.Run(dia, func(t *testing.T) {
			url := testkit.NewDatabaseURL(t, dia)
			env := baseEnv(t, url)
			if dia == dialect.Postgres {
				out, err := run(t, env, "", "migrate", "up")
				if err != nil || !strings.Contains(out, "applied") {
					t.Fatalf("migrate up: %v\n%s", err, out)
				}
			}
			out, err := run(t, env, "", "users", "create-superuser", "--email", "Admin@Example.test", "--password", "admin passphrase")
			if err != nil || !strings.Contains(out, "created superuser admin@example.test") {
				t.Fatalf("create-superuser: %v\n%s", err, out)
			}
			out, err = run(t, env, "stdin passphrase\n", "users", "create-superuser", "--email", "ops@example.test", "--password-stdin")
			if err != nil || !strings.Contains(out, "ops@example.test") {
				t.Fatalf("create-superuser from stdin: %v\n%s", err, out)
			}
			// The service's rules apply to the CLI too.
			if _, err := run(t, env, "", "users", "create-superuser", "--email", "admin@example.test", "--password", "admin passphrase"); err == nil || !strings.Contains(err.Error(), "exists") {
				t.Fatalf("duplicate superuser: err = %v", err)
			}
			if _, err := run(t, env, "", "users", "create-superuser", "--email", "weak@example.test", "--password", "short"); err == nil {
				t.Fatal("a too-short password was accepted")
			}

			db, err := database.Open(config.Database{URL: url, MaxOpenConns: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			n, err := db.Ent.User.Query().Where(user.HasRolesWith(role.ID(usersvc.AdminRoleID)), user.IsActive(true)).Count(context.Background())
			if err != nil || n != 2 {
				t.Fatalf("superusers in database = %d (%v)", n, err)
			}
			app := apptest.Start(t, db)
			app.Login("admin@example.test", "admin passphrase")
			app.Login("ops@example.test", "stdin passphrase")
		})
	}
}

func TestServeRefusesPendingPostgresMigrations(t *testing.T) {
	url := testkit.NewDatabaseURL(t, dialect.Postgres)
	db, err := database.Open(config.Database{URL: url, MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cfg := testkit.Config(t)
	cfg.Database.URL = url
	app := fx.New(appOptions(platform.WithConfig(cfg)), fx.NopLogger, fx.Invoke(func(*httpserver.Server) {}))
	err = app.Start(context.Background())
	if err == nil {
		_ = app.Stop(context.Background())
		t.Fatal("serve started on a Postgres database with pending migrations")
	}
	if !strings.Contains(err.Error(), "app migrate up") {
		t.Fatalf("error does not say what to run: %v", err)
	}
}

func TestMigrateStatusExitCode(t *testing.T) {
	url := testkit.NewDatabaseURL(t, dialect.SQLite)
	env := baseEnv(t, url)
	out, err := run(t, env, "", "migrate", "status", "--exit-code")
	if err == nil || !strings.Contains(out, "pending") {
		t.Fatalf("status on a fresh database: err=%v\n%s", err, out)
	}
	if _, err := run(t, env, "", "migrate", "up"); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, env, "", "migrate", "status", "--exit-code")
	if err != nil || !strings.Contains(out, "0 pending") {
		t.Fatalf("status after up: err=%v\n%s", err, out)
	}
}

// TestValidateApp catches a missing provider without touching a database.
func TestValidateApp(t *testing.T) {
	cfg := testkit.Config(t)
	if err := fx.ValidateApp(appOptions(platform.WithConfig(cfg)), fx.Invoke(func(*httpserver.Server) {})); err != nil {
		t.Fatal(err)
	}
}

func TestVersion(t *testing.T) {
	out, err := run(t, nil, "", "version")
	if err != nil || strings.TrimSpace(out) == "" {
		t.Fatalf("version: %q %v", out, err)
	}
}

// TestKeysRotate runs the rotation pipeline from the CLI: the first run only
// publishes, the second promotes what the first published.
func TestKeysRotate(t *testing.T) {
	env := baseEnv(t, testkit.NewDatabaseURL(t, dialect.SQLite))
	out, err := run(t, env, "", "keys", "rotate")
	if err != nil || !strings.Contains(out, "nothing promoted") || !strings.Contains(out, "published next key ") {
		t.Fatalf("first rotate: %v\n%s", err, out)
	}
	published := strings.TrimSpace(out[strings.LastIndex(out, "published next key ")+len("published next key "):])
	out, err = run(t, env, "", "keys", "rotate")
	if err != nil || !strings.Contains(out, "signing with "+published) {
		t.Fatalf("second rotate did not promote %s: %v\n%s", published, err, out)
	}
}
