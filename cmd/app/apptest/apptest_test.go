package apptest_test

import (
	"net/http"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/testkit"
)

// TestClientHelpers: signed-in clients for a normal user, a holder of
// given permissions, the superuser and nobody, on the account modules only (WithOnly with no extra module).
func TestClientHelpers(t *testing.T) {
	app := apptest.Start(t, testkit.NewDB(t, dialect.SQLite), apptest.WithOnly())
	u := app.NewUser(false)

	var me apptest.User
	app.As(u).Get("/api/users/me").Expect(http.StatusOK).JSON(t, &me)
	if me.ID != u.ID || me.Email != u.Email {
		t.Fatalf("me = %+v, want %+v", me, u)
	}
	app.Anonymous().Get("/api/users/me").Expect(http.StatusUnauthorized)
	app.As(u).Get("/api/users").Expect(http.StatusForbidden)
	// A holder of exactly the permissions named.
	reader := app.NewUserWith("users:read")
	app.As(reader).Get("/api/users").Expect(http.StatusOK)
	app.As(reader).Post("/api/users", map[string]string{"email": "x@example.test", "password": "x passphrase"}).Expect(http.StatusForbidden)

	var created apptest.User
	app.AsSuperuser().Create(t, "/api/users", map[string]string{"email": "fixture@example.test", "password": "fixture passphrase"}, &created)
	if created.Email != "fixture@example.test" {
		t.Fatalf("created = %+v", created)
	}
}

// TestOptionsWinOverDefaults: an option given to Start replaces the
// default it names (here the bootstrapped superuser's email).
func TestOptionsWinOverDefaults(t *testing.T) {
	app := apptest.Start(t, testkit.NewDB(t, dialect.SQLite), testkit.WithEnv("FIRST_SUPERUSER_EMAIL", "other@example.test"))
	tok := app.Login("other@example.test", apptest.SuperuserPassword)
	app.AsBearer(tok).Get("/api/users").Expect(http.StatusOK)
}
