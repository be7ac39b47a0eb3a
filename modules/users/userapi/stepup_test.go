package userapi_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/ent/session"
	"github.com/acme/monolith/modules/users/usersvc"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

type grant struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

func signIn(t *testing.T, app *apptest.App, email, password string) grant {
	t.Helper()
	var g grant
	app.Do(http.MethodPost, "/api/auth/login", url.Values{"grant_type": {"password"}, "username": {email}, "password": {password}}).
		Expect(http.StatusOK).JSON(t, &g)
	return g
}

// refreshed is a new access token from the session's refresh token: it
// carries the session's sign-in time, not the refresh's.
func refreshed(t *testing.T, app *apptest.App, g grant) grant {
	t.Helper()
	var out grant
	app.Do(http.MethodPost, "/api/auth/login", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {g.RefreshToken}}).
		Expect(http.StatusOK).JSON(t, &out)
	return out
}

// reauthenticate asserts RFC 9470's answer to a sign-in that is too old.
func reauthenticate(t *testing.T, what string, res *testkit.Response) {
	t.Helper()
	h := res.Header.Get("WWW-Authenticate")
	if res.Status != http.StatusUnauthorized || !strings.Contains(string(res.Body), `"code":"reauthentication_required"`) ||
		!strings.Contains(h, `error="insufficient_user_authentication"`) || !strings.Contains(h, "max_age=600") {
		t.Errorf("%s with an old sign-in: %d %q %s", what, res.Status, h, res.Body)
	}
}

// TestSensitiveChangesNeedARecentSignIn: a session signed into an hour
// ago keeps working for ordinary requests, and refreshing keeps it alive,
// but changing the password or the email, and changing roles, need a
// sign-in within AUTH_STEP_UP_MAX_AGE (10 minutes): a stolen refresh token
// cannot take the account over or hand out permissions. Signing in again
// is enough.
func TestSensitiveChangesNeedARecentSignIn(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		ctx := context.Background()
		admin := app.NewUserWith(usersvc.PermRolesRead, usersvc.PermRolesWrite, usersvc.PermRolesAssign, usersvc.PermUsersRead)
		other := app.NewUser(false)

		// Fresh: allowed (the control).
		fresh := signIn(t, app, admin.Email, admin.Password)
		var role struct {
			ID uuid.UUID `json:"id"`
		}
		app.Do(http.MethodPost, "/api/roles", map[string]any{"name": "readers 読者", "permissions": []string{usersvc.PermUsersRead}}, testkit.Bearer(fresh.AccessToken)).
			Expect(http.StatusCreated).JSON(t, &role)

		// The session signed in an hour ago, then refreshed.
		q := "UPDATE " + session.Table + " SET " + session.FieldCreatedAt + " = $1 WHERE " + session.FieldUserID + " = $2"
		if db.Dialect == dialect.SQLite {
			q = strings.NewReplacer("$1", "?", "$2", "?").Replace(q)
		}
		if res, err := db.SQL.ExecContext(ctx, q, time.Now().Add(-time.Hour).UTC(), admin.ID); err != nil {
			t.Fatalf("age the sessions: %v", err)
		} else if n, _ := res.RowsAffected(); n == 0 {
			t.Fatal("age the sessions: none")
		}
		old := refreshed(t, app, fresh)
		bearer := testkit.Bearer(old.AccessToken)
		app.Do(http.MethodGet, "/api/users/me", nil, bearer).Expect(http.StatusOK)
		app.Do(http.MethodPatch, "/api/users/me", map[string]any{"full_name": "Ada 新しい"}, bearer).Expect(http.StatusOK)
		app.Do(http.MethodGet, "/api/roles", nil, bearer).Expect(http.StatusOK)

		reauthenticate(t, "change password", app.Do(http.MethodPost, "/api/users/me/password",
			map[string]string{"current_password": admin.Password, "new_password": "a brand new passphrase 9"}, bearer))
		reauthenticate(t, "change email", app.Do(http.MethodPatch, "/api/users/me",
			map[string]any{"email": "moved@example.test", "current_password": admin.Password}, bearer))
		reauthenticate(t, "create a role", app.Do(http.MethodPost, "/api/roles", map[string]any{"name": "more"}, bearer))
		reauthenticate(t, "rename a role", app.Do(http.MethodPatch, "/api/roles/"+role.ID.String(), map[string]any{"name": "renamed"}, bearer))
		reauthenticate(t, "set a role's permissions", app.Do(http.MethodPut, "/api/roles/"+role.ID.String()+"/permissions",
			map[string]any{"permissions": []string{}}, bearer))
		reauthenticate(t, "assign a role", app.Do(http.MethodPut, "/api/users/"+other.ID.String()+"/roles/"+role.ID.String(), nil, bearer))
		reauthenticate(t, "delete a role", app.Do(http.MethodDelete, "/api/roles/"+role.ID.String(), nil, bearer))
		if got := emailOf(t, app, old.AccessToken); got != admin.Email {
			t.Fatalf("the email changed to %s", got)
		}

		// Signing in again is enough.
		again := testkit.Bearer(signIn(t, app, admin.Email, admin.Password).AccessToken)
		app.Do(http.MethodPut, "/api/users/"+other.ID.String()+"/roles/"+role.ID.String(), nil, again).Expect(http.StatusOK)
		app.Do(http.MethodPost, "/api/users/me/password",
			map[string]string{"current_password": admin.Password, "new_password": "a brand new passphrase 9"}, again).Expect(http.StatusNoContent)
	})
}
