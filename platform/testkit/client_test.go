package testkit_test

import (
	"fmt"
	"net/http"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/acme/monolith/platform/testkit"
)

// TestClientHelpers: signed-in clients for a normal user, the superuser
// and nobody, on the account modules only (WithOnly with no extra module).
func TestClientHelpers(t *testing.T) {
	app := testkit.Start(t, testkit.NewDB(t, dialect.SQLite), testkit.WithOnly())
	u := app.NewUser(false)

	var me testkit.User
	app.As(u).Get("/api/users/me").Expect(http.StatusOK).JSON(t, &me)
	if me.ID != u.ID || me.Email != u.Email {
		t.Fatalf("me = %+v, want %+v", me, u)
	}
	app.Anonymous().Get("/api/users/me").Expect(http.StatusUnauthorized)
	app.As(u).Get("/api/users").Expect(http.StatusForbidden)

	var created testkit.User
	app.AsSuperuser().Create(t, "/api/users", map[string]string{"email": "fixture@example.test", "password": "fixture passphrase"}, &created)
	if created.Email != "fixture@example.test" {
		t.Fatalf("created = %+v", created)
	}
}

// fatalRecorder records Fatalf instead of stopping the test.
type fatalRecorder struct {
	testing.TB
	msg string
}

func (f *fatalRecorder) Helper() {}
func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
}

// TestExpectFailsOnAnotherStatus is the control for Expect: a status other
// than the expected one fails the test.
func TestExpectFailsOnAnotherStatus(t *testing.T) {
	app := testkit.Start(t, testkit.NewDB(t, dialect.SQLite), testkit.WithOnly())
	res := app.Anonymous().Get("/api/users/me")
	rec := &fatalRecorder{TB: t}
	testkit.SetT(res, rec)
	res.Expect(http.StatusOK)
	if rec.msg == "" {
		t.Fatal("Expect(200) accepted a 401")
	}
}
