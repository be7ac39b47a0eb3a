package authapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// verifying starts the application with EMAIL_VERIFICATION=mode and its
// mail going to a real SMTP server.
func verifying(t *testing.T, db *database.DB, mode string, opts ...testkit.Option) (*apptest.App, *testkit.Mailbox) {
	t.Helper()
	box := testkit.StartMailbox(t)
	opts = append([]testkit.Option{testkit.WithMailbox(box), testkit.WithEnv("EMAIL_VERIFICATION", mode)}, opts...)
	return apptest.Start(t, db, opts...), box
}

// mailWith is the one mail to addr whose subject starts with subject.
func mailWith(t *testing.T, box *testkit.Mailbox, addr string, n int, subject string) testkit.Mail {
	t.Helper()
	var found []testkit.Mail
	for _, m := range box.WaitTo(addr, n) {
		if strings.HasPrefix(m.Subject(), subject) {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d mails to %s titled %q among %d", len(found), addr, subject, n)
	}
	return found[0]
}

func tokenLogin(app *apptest.App, email, pw string) *testkit.Response {
	return app.Do(http.MethodPost, "/api/auth/login", url.Values{"grant_type": {"password"}, "username": {email}, "password": {pw}})
}

// TestSignupVerifiesTheAddress: with verification required, a signup
// answers 202 without the account, mails a link whose token verifies the
// address once; before that the right password is told to verify (a wrong
// one gets the usual answer), after it the account signs in and shows
// email_verified. Both databases, a real SMTP server.
func TestSignupVerifiesTheAddress(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app, box := verifying(t, db, "required")
		email, pw := "ada.新@example.test", "a signup passphrase 1"
		res := app.Do(http.MethodPost, "/api/auth/register", map[string]string{"email": email, "password": pw}).Expect(http.StatusAccepted)
		if strings.Contains(string(res.Body), `"id"`) {
			t.Fatalf("the answer names the account: %s", res.Body)
		}
		token := mailedToken(t, mailWith(t, box, email, 1, "Verify your email address"))

		if r := tokenLogin(app, email, "not the passphrase"); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), "Incorrect email or password") {
			t.Fatalf("wrong password before verification: %d %s", r.Status, r.Body)
		}
		if r := tokenLogin(app, email, pw); r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), `"invalid_grant"`) || !strings.Contains(string(r.Body), "Verify your email") {
			t.Fatalf("right password before verification: %d %s", r.Status, r.Body)
		}

		app.Do(http.MethodPost, "/api/auth/verify-email", map[string]string{"token": token}).Expect(http.StatusNoContent)
		if r := app.Do(http.MethodPost, "/api/auth/verify-email", map[string]string{"token": token}).Expect(http.StatusUnprocessableEntity); !strings.Contains(string(r.Body), `"invalid_email_token"`) {
			t.Fatalf("a used token: %s", r.Body)
		}
		var me struct {
			EmailVerified   bool    `json:"email_verified"`
			EmailVerifiedAt *string `json:"email_verified_at"`
		}
		app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(app.Login(email, pw))).Expect(http.StatusOK).JSON(t, &me)
		if !me.EmailVerified || me.EmailVerifiedAt == nil {
			t.Fatalf("after verification: %+v", me)
		}
	})
}

// TestOptionalVerificationSignsIn: with verification optional an
// unverified account signs in; with it off, registration answers 201 with
// the account, already as today.
func TestOptionalVerificationSignsIn(t *testing.T) {
	db := testkit.NewDB(t, "sqlite3")
	app, box := verifying(t, db, "optional")
	app.Do(http.MethodPost, "/api/auth/register", map[string]string{"email": "opt@example.test", "password": "a signup passphrase 2"}).Expect(http.StatusAccepted)
	mailWith(t, box, "opt@example.test", 1, "Verify your email address")
	app.Login("opt@example.test", "a signup passphrase 2")

	off, _ := verifying(t, testkit.NewDB(t, "sqlite3"), "off")
	var u struct {
		ID            string `json:"id"`
		EmailVerified bool   `json:"email_verified"`
	}
	off.Do(http.MethodPost, "/api/auth/register", map[string]string{"email": "off@example.test", "password": "a signup passphrase 3"}).Expect(http.StatusCreated).JSON(t, &u)
	if u.ID == "" || u.EmailVerified {
		t.Fatalf("off: %+v", u) // a signup's address is not proved by signing up
	}
}

// TestEmailChangeWaitsForConfirmation: PATCH /me with a new email keeps
// the old one (it still signs in; the new one does not), names the
// pending one, mails the new address a link and the old one a notice; the
// link moves the account, after which only the new address signs in and
// the old one is told. A cancelled change's link no longer works.
func TestEmailChangeWaitsForConfirmation(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app, box := verifying(t, db, "required")
		u := app.NewUser(false)
		next := "moved-" + u.Email
		var out struct {
			Email        string `json:"email"`
			PendingEmail string `json:"pending_email"`
		}
		app.Do(http.MethodPatch, "/api/users/me", map[string]string{"email": strings.ToUpper(next), "current_password": u.Password}, testkit.Bearer(u.Token)).
			Expect(http.StatusOK).JSON(t, &out)
		if out.Email != u.Email || out.PendingEmail != next {
			t.Fatalf("answer: %+v", out)
		}
		token := mailedToken(t, mailWith(t, box, next, 1, "Confirm your new email address"))
		notice := mailWith(t, box, u.Email, 1, "A change of your email address was requested")
		if strings.Contains(notice.Body, next) || strings.Contains(notice.Body, token) {
			t.Fatalf("the notice names the new address or the token:\n%s", notice.Body)
		}
		app.Login(u.Email, u.Password)
		tokenLogin(app, next, u.Password).Expect(http.StatusBadRequest)

		app.Do(http.MethodPost, "/api/auth/confirm-email", map[string]string{"token": token}).Expect(http.StatusNoContent)
		app.Login(next, u.Password)
		tokenLogin(app, u.Email, u.Password).Expect(http.StatusBadRequest)
		mailWith(t, box, u.Email, 2, "The email address of your account was changed")
		app.Do(http.MethodPost, "/api/auth/confirm-email", map[string]string{"token": token}).Expect(http.StatusUnprocessableEntity)

		// Cancelled: the link is dead, the address unchanged.
		v := app.NewUser(false)
		app.Do(http.MethodPatch, "/api/users/me", map[string]string{"email": "elsewhere-" + v.Email, "current_password": v.Password}, testkit.Bearer(v.Token)).Expect(http.StatusOK)
		cancelled := mailedToken(t, mailWith(t, box, "elsewhere-"+v.Email, 1, "Confirm your new email address"))
		app.Do(http.MethodDelete, "/api/users/me/email-change", nil, testkit.Bearer(v.Token)).Expect(http.StatusNoContent)
		app.Do(http.MethodDelete, "/api/users/me/email-change", nil, testkit.Bearer(v.Token)).Expect(http.StatusNoContent)
		if r := app.Do(http.MethodPost, "/api/auth/confirm-email", map[string]string{"token": cancelled}).Expect(http.StatusUnprocessableEntity); !strings.Contains(string(r.Body), `"invalid_email_token"`) {
			t.Fatalf("a cancelled change: %s", r.Body)
		}
		app.Login(v.Email, v.Password)
	})
}

// TestTwoAccountsConfirmingOneAddress: two accounts ask for the same free
// address and confirm at the same moment: exactly one moves to it, the
// other gets 409 email_taken and keeps its own address.
func TestTwoAccountsConfirmingOneAddress(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app, box := verifying(t, db, "optional")
		const wanted = "wanted@example.test"
		users := []apptest.User{app.NewUser(false), app.NewUser(false)}
		for _, u := range users {
			app.Do(http.MethodPatch, "/api/users/me", map[string]string{"email": wanted, "current_password": u.Password}, testkit.Bearer(u.Token)).Expect(http.StatusOK)
		}
		mails := box.WaitTo(wanted, 2)
		statuses := make([]int, 2)
		var wg sync.WaitGroup
		for i, m := range mails {
			token := mailedToken(t, m)
			wg.Go(func() {
				statuses[i] = app.Do(http.MethodPost, "/api/auth/confirm-email", map[string]string{"token": token}).Status
			})
		}
		wg.Wait()
		won := map[int]int{}
		for _, s := range statuses {
			won[s]++
		}
		if won[http.StatusNoContent] != 1 || won[http.StatusConflict] != 1 {
			t.Fatalf("statuses %v", statuses)
		}
		signedIn := 0
		for _, u := range users {
			if tokenLogin(app, wanted, u.Password).Status == http.StatusOK {
				signedIn++
				continue
			}
			app.Login(u.Email, u.Password) // the loser keeps its address
		}
		if signedIn != 1 {
			t.Fatalf("%d accounts sign in with the address", signedIn)
		}
	})
}
