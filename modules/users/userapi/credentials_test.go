package userapi_test

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// fieldError asserts a 422 whose only failing field is loc, with code.
func fieldError(t *testing.T, res *testkit.Response, loc, code string) {
	t.Helper()
	p := expectProblem(t, res, http.StatusUnprocessableEntity)
	for _, e := range p.Errors {
		if e.Location == loc && e.Code == code {
			return
		}
	}
	t.Fatalf("want %s with code %q in %s", loc, code, res.Body)
}

func emailOf(t *testing.T, app *apptest.App, token string) string {
	t.Helper()
	var me user
	res := app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(token))
	if res.Status != http.StatusOK {
		t.Fatalf("GET /api/users/me: %d %s", res.Status, res.Body)
	}
	res.JSON(t, &me)
	return me.Email
}

// TestEmailChangeNeedsCurrentPassword: a bearer token alone cannot change
// the sign-in email (a stolen access token plus password recovery to the
// new address would own the account), with the current password it can,
// and the old address is told through a real SMTP server.
func TestEmailChangeNeedsCurrentPassword(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		box := testkit.StartMailbox(t)
		app := apptest.Start(t, db, testkit.WithMailbox(box))
		u := app.NewUser(false)
		stolen := testkit.Bearer(u.Token)
		const evil = "attacker@evil.test"

		// The attack: the stolen token alone. Refused as a field error, never
		// a 401 a client would take for an expired token.
		res := app.Do(http.MethodPatch, "/api/users/me", map[string]any{"email": evil}, stolen)
		fieldError(t, res, "body.current_password", "required")
		res = app.Do(http.MethodPatch, "/api/users/me", map[string]any{"email": evil, "current_password": ""}, stolen)
		fieldError(t, res, "body.current_password", "required")
		res = app.Do(http.MethodPatch, "/api/users/me", map[string]any{"email": evil, "current_password": "a guessed passphrase"}, stolen)
		fieldError(t, res, "body.current_password", "incorrect_password")
		if got := emailOf(t, app, u.Token); got != u.Email {
			t.Fatalf("email changed to %q without the password", got)
		}
		// ... so recovery to the attacker's address has no account to reach.
		// The control request to the real address proves mail flows; a
		// recovery that finds no account starts no send at all.
		app.Do(http.MethodPost, "/api/auth/password-recovery", map[string]string{"email": evil})
		app.Do(http.MethodPost, "/api/auth/password-recovery", map[string]string{"email": u.Email})
		box.WaitTo(u.Email, 1)
		if got := box.To(evil); len(got) != 0 {
			t.Fatalf("the attacker's address received %d message(s)", len(got))
		}

		// A name change needs no password.
		res = app.Do(http.MethodPatch, "/api/users/me", map[string]any{"full_name": "Zoë 名前"}, stolen)
		if res.Status != http.StatusOK {
			t.Fatalf("full name only: %d %s", res.Status, res.Body)
		}

		// With the password it works, and the old address gets a notice
		// that holds no secret and not the new address.
		const next = "new.address@example.test"
		res = app.Do(http.MethodPatch, "/api/users/me", map[string]any{"email": "New.Address@Example.test", "current_password": u.Password}, stolen)
		if res.Status != http.StatusOK {
			t.Fatalf("email change with the password: %d %s", res.Status, res.Body)
		}
		var me user
		res.JSON(t, &me)
		if me.Email != next {
			t.Fatalf("email = %q, want %q", me.Email, next)
		}
		notices := box.WaitTo(u.Email, 2) // the reset mail above, then the notice
		notice := notices[len(notices)-1]
		if !strings.Contains(notice.Subject(), "email address") || !strings.Contains(notice.Body, "changed") {
			t.Fatalf("notice to the old address: %q\n%s", notice.Subject(), notice.Body)
		}
		for _, secret := range []string{u.Password, next, "token"} {
			if strings.Contains(strings.ToLower(notice.Body), strings.ToLower(secret)) {
				t.Fatalf("notice contains %q:\n%s", secret, notice.Body)
			}
		}
		if got := box.To(next); len(got) != 0 {
			t.Fatalf("the new address received %d message(s)", len(got))
		}
		// The token keeps working (changing the email ends no session), the
		// new email signs in, the old one no longer does.
		if got := emailOf(t, app, u.Token); got != next {
			t.Fatalf("after the change GET /me says %q", got)
		}
		app.Login(next, u.Password)
		res = app.Do(http.MethodPost, "/api/auth/login", url.Values{"grant_type": {"password"}, "username": {u.Email}, "password": {u.Password}})
		if res.Status != http.StatusBadRequest {
			t.Fatalf("old email still signs in: %d", res.Status)
		}
	})
}

// TestEmailChangeOddInput: hostile and unusual input to the email change
// is refused with field errors naming each failing field, never a 500.
func TestEmailChangeOddInput(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		u := app.NewUser(false)
		auth := testkit.Bearer(u.Token)
		cases := []struct {
			name      string
			body      any
			locations []string
		}{
			{"bad-email-and-no-password", map[string]any{"email": "not an email"}, []string{"body.email", "body.current_password"}},
			{"multibyte-wrong-password", map[string]any{"email": "x@example.test", "current_password": "pässwörd 名前 🙂"}, []string{"body.current_password"}},
			{"nul-in-password", map[string]any{"email": "x@example.test", "current_password": "pass\x00word"}, []string{"body.current_password"}},
			{"password-too-long", map[string]any{"email": "x@example.test", "current_password": strings.Repeat("p", 129)}, []string{"body.current_password"}},
			{"password-wrong-type", `{"email": "x@example.test", "current_password": 12345678}`, []string{"body.current_password"}},
			{"password-null", `{"email": "x@example.test", "current_password": null}`, []string{"body.current_password"}},
			{"display-name-email", map[string]any{"email": "Eve <eve@example.test>", "current_password": u.Password}, []string{"body.email"}},
			{"control-characters-email", map[string]any{"email": "a\r\nBcc: x@example.test", "current_password": u.Password}, []string{"body.email"}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				p := expectProblem(t, app.Do(http.MethodPatch, "/api/users/me", c.body, auth), http.StatusUnprocessableEntity)
				var got []string
				for _, e := range p.Errors {
					got = append(got, e.Location)
				}
				for _, loc := range c.locations {
					if !strings.Contains(strings.Join(got, " "), loc) {
						t.Errorf("errors %v do not name %s", got, loc)
					}
				}
			})
		}
		if got := emailOf(t, app, u.Token); got != u.Email {
			t.Fatalf("email changed to %q", got)
		}
		// A non-Latin address with the password: stored or refused, never a 500.
		res := app.Do(http.MethodPatch, "/api/users/me", map[string]any{"email": "名前@例え.test", "current_password": u.Password}, auth)
		if res.Status != http.StatusOK && res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("non-Latin address: %d %s", res.Status, res.Body)
		}
	})
}

// TestAdminRouteIsNoCredentialBypass: a superuser's own email and password
// change only through /api/users/me (with the current password), never
// through the admin route on their own id; on another account the admin
// route is allowed and that account's holder is told.
func TestAdminRouteIsNoCredentialBypass(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		box := testkit.StartMailbox(t)
		app := apptest.Start(t, db, testkit.WithMailbox(box))
		admin := app.NewUser(true)
		auth := testkit.Bearer(admin.Token)
		for _, body := range []map[string]any{
			{"email": "taken.over@example.test"},
			{"password": "a brand new passphrase"},
			{"email": "taken.over@example.test", "full_name": "x"},
		} {
			p := expectProblem(t, app.Do(http.MethodPatch, "/api/users/"+admin.ID.String(), body, auth), http.StatusForbidden)
			if p.Code != "self_service_required" || !strings.Contains(p.Detail, "/api/users/me") {
				t.Fatalf("own credentials through the admin route %v: %+v", body, p)
			}
		}
		if got := emailOf(t, app, admin.Token); got != admin.Email {
			t.Fatalf("email changed to %q", got)
		}
		app.Login(admin.Email, admin.Password)
		// Other fields of one's own account stay editable there.
		if res := app.Do(http.MethodPatch, "/api/users/"+admin.ID.String(), map[string]any{"full_name": "Admin"}, auth); res.Status != http.StatusOK {
			t.Fatalf("own full name: %d %s", res.Status, res.Body)
		}

		// Another user's email and password: allowed, and they are told.
		other := app.NewUser(false)
		const moved = "moved.by.admin@example.test"
		if res := app.Do(http.MethodPatch, "/api/users/"+other.ID.String(), map[string]any{"email": moved}, auth); res.Status != http.StatusOK {
			t.Fatalf("admin email change: %d %s", res.Status, res.Body)
		}
		n := box.WaitTo(other.Email, 1)[0]
		if !strings.Contains(n.Body, "administrator") || strings.Contains(n.Body, moved) {
			t.Fatalf("notice of an admin email change:\n%s", n.Body)
		}
		const newPassword = "set by an administrator"
		if res := app.Do(http.MethodPatch, "/api/users/"+other.ID.String(), map[string]any{"password": newPassword}, auth); res.Status != http.StatusOK {
			t.Fatalf("admin password set: %d %s", res.Status, res.Body)
		}
		n = box.WaitTo(moved, 1)[0]
		if !strings.Contains(n.Subject(), "password") || !strings.Contains(n.Body, "administrator") || strings.Contains(n.Body, newPassword) {
			t.Fatalf("notice of an admin password set: %q\n%s", n.Subject(), n.Body)
		}
	})
}

// TestPasswordChangeNotifies: the account holder is told when their
// password changes, by them or through a reset, without the password.
func TestPasswordChangeNotifies(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		box := testkit.StartMailbox(t)
		app := apptest.Start(t, db, testkit.WithMailbox(box))
		u := app.NewUser(false)
		const next = "my second passphrase"
		res := app.Do(http.MethodPost, "/api/users/me/password", map[string]string{"current_password": u.Password, "new_password": next}, testkit.Bearer(u.Token))
		if res.Status != http.StatusNoContent {
			t.Fatalf("change password: %d %s", res.Status, res.Body)
		}
		n := box.WaitTo(u.Email, 1)[0]
		if !strings.Contains(n.Subject(), "password") || strings.Contains(n.Body, next) || strings.Contains(n.Body, u.Password) {
			t.Fatalf("password-change notice: %q\n%s", n.Subject(), n.Body)
		}

		app.Do(http.MethodPost, "/api/auth/password-recovery", map[string]string{"email": u.Email})
		token := resetToken(t, box.WaitTo(u.Email, 2)[1])
		const third = "my third passphrase"
		res = app.Do(http.MethodPost, "/api/auth/reset-password", map[string]string{"token": token, "new_password": third})
		if res.Status != http.StatusNoContent {
			t.Fatalf("reset: %d %s", res.Status, res.Body)
		}
		n = box.WaitTo(u.Email, 3)[2]
		if !strings.Contains(n.Subject(), "password") || !strings.Contains(n.Body, "reset") || strings.Contains(n.Body, token) || strings.Contains(n.Body, third) {
			t.Fatalf("reset notice: %q\n%s", n.Subject(), n.Body)
		}
	})
}

// resetToken reads the token from a password-reset email (on its own line).
func resetToken(t *testing.T, m testkit.Mail) string {
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

// frozenRelay accepts SMTP connections and never answers (a relay that
// hangs rather than refuses) until released.
type frozenRelay struct {
	ln       net.Listener
	accepted chan net.Conn
}

func startFrozenRelay(t *testing.T) *frozenRelay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &frozenRelay{ln: ln, accepted: make(chan net.Conn, 16)}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.accepted <- c
		}
	}()
	t.Cleanup(r.release)
	return r
}

// release closes the listener and every held connection.
func (r *frozenRelay) release() {
	_ = r.ln.Close()
	for {
		select {
		case c := <-r.accepted:
			_ = c.Close()
		default:
			return
		}
	}
}

// TestNoticesNeverHoldTheRequest: with a mail relay that accepts and then
// hangs, an email change still answers 200 at once: when the notice's
// connection is seen held open by the relay, the response has already
// come back. Releasing the relay fails the send, which the job queue
// retries; the app stops cleanly.
func TestNoticesNeverHoldTheRequest(t *testing.T) {
	db := testkit.NewDB(t, "sqlite3")
	relay := startFrozenRelay(t)
	port := relay.ln.Addr().(*net.TCPAddr).Port
	app := apptest.Start(t, db, testkit.WithJobs(), testkit.WithConfig(func(c *config.Config) {
		c.Mail = config.Mail{SMTPHost: "127.0.0.1", SMTPPort: port, SMTPFrom: "noreply@example.test", SMTPTLS: "none"}
	}))
	u := app.NewUser(false)
	res := app.Do(http.MethodPatch, "/api/users/me", map[string]any{"email": "frozen." + u.Email, "current_password": u.Password}, testkit.Bearer(u.Token))
	if res.Status != http.StatusOK {
		t.Fatalf("email change with a frozen relay: %d %s", res.Status, res.Body)
	}
	select {
	case c := <-relay.accepted:
		relay.accepted <- c // held open: the send is still under way
	case <-time.After(20 * time.Second):
		t.Fatal("the notice never reached the relay")
	}
	relay.release()
}
