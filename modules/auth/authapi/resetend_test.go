package authapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// TestResetTokensEndWithTheCredential: a reset token mailed before a
// sign-in, a password change, an admin password set or an email change is
// refused afterwards with invalid_reset_token; the control, with nothing
// in between, still resets. Mail goes through a real SMTP server.
func TestResetTokensEndWithTheCredential(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		box := testkit.StartMailbox(t)
		app := apptest.Start(t, db, testkit.WithMailbox(box))
		root := testkit.Bearer(app.SuperuserToken())

		cases := []struct {
			name    string
			between func(t *testing.T, u apptest.User)
		}{
			{"nothing-in-between", func(*testing.T, apptest.User) {}},
			{"sign-in", func(_ *testing.T, u apptest.User) { app.Login(u.Email, u.Password) }},
			{"password-change", func(t *testing.T, u apptest.User) {
				res := app.Do(http.MethodPost, "/api/users/me/password", map[string]string{"current_password": u.Password, "new_password": "changed passphrase 1"}, testkit.Bearer(u.Token))
				if res.Status != http.StatusNoContent {
					t.Fatalf("change password: %d %s", res.Status, res.Body)
				}
			}},
			{"admin-password-set", func(t *testing.T, u apptest.User) {
				res := app.Do(http.MethodPatch, "/api/users/"+u.ID.String(), map[string]string{"password": "set by the admin 1"}, root)
				if res.Status != http.StatusOK {
					t.Fatalf("admin password set: %d %s", res.Status, res.Body)
				}
			}},
			{"email-change", func(t *testing.T, u apptest.User) {
				res := app.Do(http.MethodPatch, "/api/users/me", map[string]string{"email": "moved." + u.Email, "current_password": u.Password}, testkit.Bearer(u.Token))
				if res.Status != http.StatusOK {
					t.Fatalf("email change: %d %s", res.Status, res.Body)
				}
			}},
			{"admin-email-change", func(t *testing.T, u apptest.User) {
				res := app.Do(http.MethodPatch, "/api/users/"+u.ID.String(), map[string]string{"email": "moved." + u.Email}, root)
				if res.Status != http.StatusOK {
					t.Fatalf("admin email change: %d %s", res.Status, res.Body)
				}
			}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				u := app.NewUser(false)
				if res := app.Do(http.MethodPost, "/api/auth/password-recovery", map[string]string{"email": u.Email}); res.Status != http.StatusAccepted {
					t.Fatalf("recovery: %d %s", res.Status, res.Body)
				}
				token := mailedToken(t, box.WaitTo(u.Email, 1)[0])
				c.between(t, u)
				res := app.Do(http.MethodPost, "/api/auth/reset-password", map[string]string{"token": token, "new_password": "recovered passphrase 9"})
				if c.name == "nothing-in-between" {
					if res.Status != http.StatusNoContent {
						t.Fatalf("control: the reset failed: %d %s", res.Status, res.Body)
					}
					return
				}
				if res.Status != http.StatusUnprocessableEntity || !strings.Contains(string(res.Body), `"invalid_reset_token"`) {
					t.Fatalf("token still worked after %s: %d %s", c.name, res.Status, res.Body)
				}
			})
		}
	})
}

// mailedToken reads the token from a password-reset email (on its own line).
func mailedToken(t *testing.T, m testkit.Mail) string {
	t.Helper()
	for line := range strings.Lines(m.Body) {
		line = strings.TrimSpace(line)
		if len(line) == 43 && !strings.ContainsAny(line, " :/") {
			return line
		}
	}
	t.Fatalf("no reset token in:\n%s", m.Body)
	return ""
}
