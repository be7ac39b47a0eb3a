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
	app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(u.Token)).Expect(http.StatusOK).JSON(t, &me)
	if me.ID != u.ID || me.Email != u.Email {
		t.Fatalf("me = %+v, want %+v", me, u)
	}
	app.Do(http.MethodGet, "/api/users/me", nil).Expect(http.StatusUnauthorized)
	app.Do(http.MethodGet, "/api/users", nil, testkit.Bearer(u.Token)).Expect(http.StatusForbidden)
	// A holder of exactly the permissions named.
	reader := app.NewUserWith("users:read")
	app.Do(http.MethodGet, "/api/users", nil, testkit.Bearer(reader.Token)).Expect(http.StatusOK)
	app.Do(http.MethodPost, "/api/users", map[string]string{"email": "x@example.test", "password": "x passphrase"}, testkit.Bearer(reader.Token)).Expect(http.StatusForbidden)

	var created apptest.User
	app.Do(http.MethodPost, "/api/users", map[string]string{"email": "fixture@example.test", "password": "fixture passphrase"}, testkit.Bearer(app.SuperuserToken())).
		Expect(http.StatusCreated).JSON(t, &created)
	if created.Email != "fixture@example.test" {
		t.Fatalf("created = %+v", created)
	}
}

// TestOptionsWinOverDefaults: an option given to Start replaces the
// default it names (here the bootstrapped superuser's email).
func TestOptionsWinOverDefaults(t *testing.T) {
	app := apptest.Start(t, testkit.NewDB(t, dialect.SQLite), testkit.WithEnv("FIRST_SUPERUSER_EMAIL", "other@example.test"))
	tok := app.Login("other@example.test", apptest.SuperuserPassword)
	app.Do(http.MethodGet, "/api/users", nil, testkit.Bearer(tok)).Expect(http.StatusOK)
}
