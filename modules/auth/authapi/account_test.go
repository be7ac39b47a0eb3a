package authapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// setActive flips an account's flag behind the users module's back: the
// users service would also end the account's sessions, and this test is
// about the one rule (authn.Account.MayAct) that stops an account whose
// sessions are still live.
func setActive(t *testing.T, db *database.DB, id string, active bool) {
	t.Helper()
	// Hand-written SQL advances authz_version itself, as the account
	// cache requires of any write it does not make (docs/security.md).
	q := "UPDATE users SET is_active = ?, authz_version = authz_version + 1 WHERE id = ?"
	if db.Dialect == dialect.Postgres {
		q = "UPDATE users SET is_active = $1, authz_version = authz_version + 1 WHERE id = $2"
	}
	if _, err := db.SQL.ExecContext(t.Context(), q, active, id); err != nil {
		t.Fatal(err)
	}
}

// TestInactiveAccountIsRefusedAlike: an account that may not act is
// refused by the same rule at sign-in (the same invalid_grant as a wrong
// password), at refresh (invalid_grant), on a protected route (401
// invalid_token, as for a bad token) and by password recovery (no email),
// though its session is still live. Control: each worked before, and
// works again once the account is active.
func TestInactiveAccountIsRefusedAlike(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		box := testkit.StartMailbox(t)
		app := apptest.Start(t, db, testkit.WithMailbox(box))
		u, other := app.NewUser(false), app.NewUser(false)
		signIn := func(pw string) *testkit.Response {
			return app.Do(http.MethodPost, "/api/auth/login", url.Values{"grant_type": {"password"}, "username": {u.Email}, "password": {pw}})
		}
		var s tokens
		signIn(u.Password).Expect(http.StatusOK).JSON(t, &s)
		app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(s.AccessToken)).Expect(http.StatusOK)
		wrongPassword := string(signIn("not the password").Expect(http.StatusBadRequest).Body)

		setActive(t, db, u.ID.String(), false)

		res := app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(s.AccessToken)).Expect(http.StatusUnauthorized)
		if p := res.Problem(t); p.Code != "invalid_token" || !strings.Contains(res.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Fatalf("protected route: %s %q", res.Body, res.Header.Get("WWW-Authenticate"))
		}
		if got := string(signIn(u.Password).Expect(http.StatusBadRequest).Body); got != wrongPassword {
			t.Fatalf("sign-in of an inactive account = %s, want the wrong-password answer %s", got, wrongPassword)
		}
		var refreshed tokens
		app.Do(http.MethodPost, "/api/auth/login", refreshForm(s.RefreshToken)).Expect(http.StatusBadRequest).JSON(t, &refreshed)
		if refreshed.Error != "invalid_grant" {
			t.Fatalf("refresh of an inactive account: %+v", refreshed)
		}
		for _, email := range []string{u.Email, other.Email} {
			app.Do(http.MethodPost, "/api/auth/password-recovery", map[string]string{"email": email}).Expect(http.StatusAccepted)
		}
		box.WaitTo(other.Email, 1) // the control's email is sent
		if got := box.To(u.Email); len(got) != 0 {
			t.Fatalf("recovery mailed an inactive account: %d messages", len(got))
		}

		setActive(t, db, u.ID.String(), true)
		signIn(u.Password).Expect(http.StatusOK)
	})
}

// TestEmailIsOneAcrossModules: an address in another script and case is
// registered (users module) in its lower-cased form, and every spelling
// of it signs in and asks for a reset email (auth module), which goes to
// the stored address; another spelling cannot register it again.
func TestEmailIsOneAcrossModules(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		box := testkit.StartMailbox(t)
		app := apptest.Start(t, db, testkit.WithMailbox(box))
		const typed, stored, pw = "ÉLODIE.Núñez@Exemple.FR", "élodie.núñez@exemple.fr", "a long passphrase of hers"
		var created struct {
			Email string `json:"email"`
		}
		app.Do(http.MethodPost, "/api/auth/register", map[string]string{"email": typed, "password": pw}).
			Expect(http.StatusCreated).JSON(t, &created)
		if created.Email != stored {
			t.Fatalf("stored email = %q, want %q", created.Email, stored)
		}
		for _, spelling := range []string{typed, stored, "élodie.NÚÑEZ@exemple.fr"} {
			res := app.Do(http.MethodPost, "/api/auth/login", url.Values{"grant_type": {"password"}, "username": {spelling}, "password": {pw}})
			res.Expect(http.StatusOK)
		}
		res := app.Do(http.MethodPost, "/api/auth/register", map[string]string{"email": "ÉLODIE.NÚÑEZ@EXEMPLE.FR", "password": pw})
		if res.Expect(http.StatusConflict).Problem(t).Code != "email_taken" {
			t.Fatalf("second registration: %s", res.Body)
		}
		app.Do(http.MethodPost, "/api/auth/password-recovery", map[string]string{"email": "Élodie.Núñez@EXEMPLE.fr"}).Expect(http.StatusAccepted)
		if got := box.WaitTo(stored, 1); len(got) != 1 {
			t.Fatalf("reset emails to %s: %d", stored, len(got))
		}
	})
}
