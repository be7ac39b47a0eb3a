package authapi_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// TestHostileTextIsRefusedNotCrashed: NUL bytes and invalid UTF-8 in every
// text the auth endpoints take from a client get a 4xx on both databases.
// Postgres refuses both in text columns and parameters, so a value that
// reaches a query unchecked would be a 500 there (SQLite stores anything).
func TestHostileTextIsRefusedNotCrashed(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		u := app.NewUser(false)
		for _, bad := range []string{"a\x00b@example.test", "\xff\xfe@example.test", "caf\xc3@example.test"} {
			form := url.Values{"grant_type": {"password"}, "username": {bad}, "password": {"whatever pw"}}
			check(t, "login username", app.Do(http.MethodPost, "/api/auth/login", form), http.StatusBadRequest)
			form = url.Values{"grant_type": {"password"}, "username": {u.Email}, "password": {bad}}
			check(t, "login password", app.Do(http.MethodPost, "/api/auth/login", form), http.StatusBadRequest)
			form = url.Values{"grant_type": {"refresh_token"}, "refresh_token": {bad}}
			check(t, "refresh token", app.Do(http.MethodPost, "/api/auth/login", form), http.StatusBadRequest)
			// RFC 7009 §2.2: an unknown token is a 200; text that is not
			// UTF-8 is a malformed request, refused at the edge.
			revoked := http.StatusOK
			if !utf8.ValidString(bad) {
				revoked = http.StatusBadRequest
			}
			check(t, "revoke", app.Do(http.MethodPost, "/api/auth/revoke", url.Values{"token": {bad}}), revoked)
			// Invalid UTF-8 is refused before decoding; \u0000 stays a NUL.
			check(t, "recovery", app.Do(http.MethodPost, "/api/auth/password-recovery", map[string]string{"email": bad}), 0)
			check(t, "reset", app.Do(http.MethodPost, "/api/auth/reset-password", map[string]string{"token": bad, "new_password": "a new long password"}), 0)
			check(t, "register", app.Do(http.MethodPost, "/api/auth/register", map[string]string{"email": bad, "password": "a long password"}), 0)
		}
		for _, client := range []string{"app\x00", "\xff\xfe", strings.Repeat("c", 65)} {
			form := url.Values{"grant_type": {"password"}, "username": {u.Email}, "password": {u.Password}, "client_id": {client}}
			check(t, "login with client_id "+strconv.Quote(client), app.Do(http.MethodPost, "/api/auth/login", form), http.StatusBadRequest)
		}
		form := url.Values{"grant_type": {"password"}, "username": {u.Email}, "password": {u.Password}}
		res := app.Do(http.MethodPost, "/api/auth/login", form, testkit.Header{Key: "User-Agent", Value: "agent \xff\xc3 é"})
		check(t, "login with a broken User-Agent", res, http.StatusOK)
	})
}

func check(t *testing.T, what string, res *testkit.Response, want int) {
	t.Helper()
	if res.Status >= 500 || (want != 0 && res.Status != want) {
		t.Errorf("%s: %d %s", what, res.Status, res.Body)
	}
}
