package authattack

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// mailedToken is the token of a mail: the line that is nothing else.
func mailedToken(t *testing.T, m testkit.Mail) string {
	t.Helper()
	for line := range strings.Lines(m.Body) {
		line = strings.TrimSpace(line)
		if len(line) == 43 && !strings.ContainsAny(line, " :/") {
			return line
		}
	}
	t.Fatalf("no token in:\n%s", m.Body)
	return ""
}

// answer is what a client can compare between two responses.
func answer(r *testkit.Response) string {
	return http.StatusText(r.Status) + " " + r.Header.Get("Content-Type") + " " + string(r.Body)
}

// TestEmailLinkAttacks: account enumeration through registration and the
// verification resend, and misuse of emailed tokens (reuse, expiry, a
// token of another flow), with verification required, on both databases
// and a real SMTP server. Each refusal has a control that shows the token
// working where it belongs.
func TestEmailLinkAttacks(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		box := testkit.StartMailbox(t)
		app := apptest.Start(t, db, testkit.WithMailbox(box), testkit.WithEnv("EMAIL_VERIFICATION", "required"),
			testkit.WithEnv("AUTH_THROTTLE_IP_LIMIT", "100000"), testkit.WithEnv("AUTH_RECOVERY_ACCOUNT_LIMIT", "1000"),
			testkit.WithEnv("REGISTER_THROTTLE_IP_LIMIT", "1000"))
		n := 0
		signup := func(t *testing.T) (email, pw string) {
			t.Helper()
			n++
			email, pw = "signup-"+strings.Repeat("x", n)+"@example.test", "a signup passphrase 9"
			app.Do(http.MethodPost, "/api/auth/register", map[string]string{"email": email, "password": pw}).Expect(http.StatusAccepted)
			return email, pw
		}
		verifyToken := func(t *testing.T, email string) string {
			t.Helper()
			ms := box.WaitTo(email, 1)
			return mailedToken(t, ms[len(ms)-1])
		}
		cases := []attack{
			{"register-taken-address", "ASVS 5.0 V6.3.8 (no account enumeration through registration)", func(t *testing.T) {
				verified := app.NewUser(false)
				unverified, _ := signup(t)
				box.WaitTo(unverified, 1)
				fresh := app.Do(http.MethodPost, "/api/auth/register", map[string]string{"email": "fresh-" + verified.Email, "password": "an attacker's passphrase"})
				for _, taken := range []string{verified.Email, strings.ToUpper(verified.Email), unverified} {
					got := app.Do(http.MethodPost, "/api/auth/register", map[string]string{"email": taken, "password": "an attacker's passphrase"})
					if answer(got) != answer(fresh) {
						t.Fatalf("taken %s answers\n%s\nbut a new address\n%s", taken, answer(got), answer(fresh))
					}
				}
				if fresh.Status != http.StatusAccepted {
					t.Fatalf("a new address: %s", answer(fresh))
				}
				tried := box.WaitTo(verified.Email, 2) // both spellings
				for _, m := range tried {
					if !strings.HasPrefix(m.Subject(), "Someone tried to register") {
						t.Fatalf("the holder got %q", m.Subject())
					}
				}
				box.WaitTo(unverified, 2)
				// The attacker's password opened nothing; the holder's still works.
				if res, _ := login(t, app, verified.Email, "an attacker's passphrase"); res.Status != http.StatusBadRequest {
					t.Fatalf("the attacker's password: %d", res.Status)
				}
				app.Login(verified.Email, verified.Password)
			}},
			{"resend-reveals-nothing", "ASVS 5.0 V6.3.8 (the same answer for unknown, verified and unverified addresses)", func(t *testing.T) {
				verified := app.NewUser(false)
				unverified, _ := signup(t)
				box.WaitTo(unverified, 1)
				var answers []string
				for _, e := range []string{"nobody-" + verified.Email, verified.Email, unverified, "not an address"} {
					answers = append(answers, answer(app.Do(http.MethodPost, "/api/auth/verify-email/resend", map[string]string{"email": e})))
				}
				for _, a := range answers[1:] {
					if a != answers[0] {
						t.Fatalf("answers differ:\n%s", strings.Join(answers, "\n"))
					}
				}
				box.WaitTo(unverified, 2) // only the unverified address gets a new link
				if got := len(box.To(verified.Email)); got != 0 {
					t.Fatalf("a verified address got %d mails", got)
				}
			}},
			{"verification-token-reuse", "ASVS 5.0 V6.4.1 (activation codes expire once used)", func(t *testing.T) {
				email, pw := signup(t)
				tok := verifyToken(t, email)
				app.Do(http.MethodPost, "/api/auth/verify-email", map[string]string{"token": tok}).Expect(http.StatusNoContent)
				expectInvalid(t, app.Do(http.MethodPost, "/api/auth/verify-email", map[string]string{"token": tok}))
				app.Login(email, pw)
			}},
			{"verification-token-race", "ASVS 5.0 V6.4.1 (single use, also under a burst of redemptions)", func(t *testing.T) {
				email, _ := signup(t)
				tok := verifyToken(t, email)
				statuses := make([]int, 8)
				var wg sync.WaitGroup
				for i := range statuses {
					wg.Go(func() {
						statuses[i] = app.Do(http.MethodPost, "/api/auth/verify-email", map[string]string{"token": tok}).Status
					})
				}
				wg.Wait()
				count := map[int]int{}
				for _, s := range statuses {
					count[s]++
				}
				if count[http.StatusNoContent] != 1 || count[http.StatusUnprocessableEntity] != len(statuses)-1 {
					t.Fatalf("statuses %v", statuses)
				}
			}},
			{"verification-token-expired", "ASVS 5.0 V6.4.1 (activation codes expire after a short period)", func(t *testing.T) {
				email, pw := signup(t)
				tok := verifyToken(t, email)
				// Expired at its creation: the clock has moved on since.
				if _, err := app.DB.Direct().ExecContext(t.Context(), "UPDATE email_tokens SET expires_at = created_at WHERE email = $1", email); err != nil {
					t.Fatal(err)
				}
				expectInvalid(t, app.Do(http.MethodPost, "/api/auth/verify-email", map[string]string{"token": tok}))
				if res, _ := login(t, app, email, pw); res.Status != http.StatusBadRequest {
					t.Fatalf("still unverified, it signed in: %d", res.Status)
				}
			}},
			{"reset-token-as-verification-token", "ASVS 5.0 V6.4.1; tokens bound to their flow", func(t *testing.T) {
				email, pw := signup(t)
				box.WaitTo(email, 1)
				app.Do(http.MethodPost, "/api/auth/password-recovery", map[string]string{"email": email}).Expect(http.StatusAccepted)
				reset := mailedToken(t, box.WaitTo(email, 2)[1])
				expectInvalid(t, app.Do(http.MethodPost, "/api/auth/verify-email", map[string]string{"token": reset}))
				expectInvalid(t, app.Do(http.MethodPost, "/api/auth/confirm-email", map[string]string{"token": reset}))
				// Control: refused there, the reset token still resets.
				app.Do(http.MethodPost, "/api/auth/reset-password", map[string]string{"token": reset, "new_password": pw + " reset"}).Expect(http.StatusNoContent)
			}},
			{"verification-token-as-change-token", "ASVS 5.0 V6.4.1; tokens bound to their flow", func(t *testing.T) {
				email, pw := signup(t)
				tok := verifyToken(t, email)
				expectInvalid(t, app.Do(http.MethodPost, "/api/auth/confirm-email", map[string]string{"token": tok}))
				app.Do(http.MethodPost, "/api/auth/reset-password", map[string]string{"token": tok, "new_password": "a hijacked passphrase"}).Expect(http.StatusUnprocessableEntity)
				app.Do(http.MethodPost, "/api/auth/verify-email", map[string]string{"token": tok}).Expect(http.StatusNoContent)
				app.Login(email, pw)
			}},
			{"change-token-as-verification-token", "ASVS 5.0 V6.4.1; tokens bound to their flow", func(t *testing.T) {
				u := app.NewUser(false)
				next := "next-" + u.Email
				app.Do(http.MethodPatch, "/api/users/me", map[string]string{"email": next, "current_password": u.Password}, testkit.Bearer(u.Token)).Expect(http.StatusOK)
				tok := mailedToken(t, box.WaitTo(next, 1)[0])
				expectInvalid(t, app.Do(http.MethodPost, "/api/auth/verify-email", map[string]string{"token": tok}))
				app.Do(http.MethodPost, "/api/auth/confirm-email", map[string]string{"token": tok}).Expect(http.StatusNoContent)
				app.Login(next, u.Password)
			}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Logf("checks: %s", c.cite)
				c.run(t)
			})
		}
	})
}

// TestVerificationResendThrottled: resends count per account before the
// account is looked up, so an unknown address is throttled exactly like a
// known one, and the per-account limit stops a mail flood at one inbox
// (ASVS 5.0 V6.3.1; V6.3.8).
func TestVerificationResendThrottled(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		box := testkit.StartMailbox(t)
		app := apptest.Start(t, db, testkit.WithMailbox(box), testkit.WithEnv("EMAIL_VERIFICATION", "required"),
			testkit.WithEnv("AUTH_RECOVERY_ACCOUNT_LIMIT", "2"))
		app.Do(http.MethodPost, "/api/auth/register", map[string]string{"email": "flooded@example.test", "password": "a signup passphrase 4"}).Expect(http.StatusAccepted)
		box.WaitTo("flooded@example.test", 1)
		for _, email := range []string{"flooded@example.test", "unknown@example.test"} {
			for range 2 {
				app.Do(http.MethodPost, "/api/auth/verify-email/resend", map[string]string{"email": email}).Expect(http.StatusAccepted)
			}
			res := app.Do(http.MethodPost, "/api/auth/verify-email/resend", map[string]string{"email": email}).Expect(http.StatusTooManyRequests)
			if res.Header.Get("Retry-After") == "" {
				t.Fatalf("%s: no Retry-After", email)
			}
		}
		if got := len(box.WaitTo("flooded@example.test", 3)); got != 3 {
			t.Fatalf("%d mails", got)
		}
	})
}

func expectInvalid(t *testing.T, r *testkit.Response) {
	t.Helper()
	if r.Status != http.StatusUnprocessableEntity || !strings.Contains(string(r.Body), `"invalid_email_token"`) {
		t.Fatalf("want 422 invalid_email_token, got %d %s", r.Status, r.Body)
	}
}
