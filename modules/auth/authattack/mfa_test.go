package authattack

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

const (
	mfaPath          = "/api/auth/mfa"
	grantMFAOTP      = "http://auth0.com/oauth/grant-type/mfa-otp"
	grantMFARecovery = "http://auth0.com/oauth/grant-type/mfa-recovery-code"
)

type mfaResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
	MFAToken     string `json:"mfa_token"`
}

// totpCode is secret's code steps 30-second steps from now.
func totpCode(t *testing.T, secret string, steps int) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, time.Now().Add(time.Duration(steps)*30*time.Second),
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrolled is a session whose account has a confirmed TOTP factor (the
// current step's code used up by the confirmation).
type enrolled struct {
	session
	Secret        string
	RecoveryCodes []string
}

func enrolSession(t *testing.T, app *apptest.App, s session) enrolled {
	t.Helper()
	var e struct {
		Secret string `json:"secret"`
	}
	app.Do(http.MethodPost, mfaPath+"/enrolment", nil, testkit.Bearer(s.Access)).Expect(http.StatusOK).JSON(t, &e)
	var rc struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	app.Do(http.MethodPost, mfaPath+"/enrolment/confirm", map[string]string{"code": totpCode(t, e.Secret, 0)}, testkit.Bearer(s.Access)).
		Expect(http.StatusOK).JSON(t, &rc)
	return enrolled{session: s, Secret: e.Secret, RecoveryCodes: rc.RecoveryCodes}
}

// mfaToken runs the password grant of an enrolled account.
func mfaToken(t *testing.T, app *apptest.App, u apptest.User, extra ...string) string {
	t.Helper()
	f := form(append([]string{"grant_type", "password", "username", u.Email, "password", u.Password}, extra...)...)
	res := app.Do(http.MethodPost, "/api/auth/login", f)
	var r mfaResponse
	res.JSON(t, &r)
	if res.Status != http.StatusForbidden || r.Error != "mfa_required" || r.MFAToken == "" {
		t.Fatalf("password grant: %d %s", res.Status, res.Body)
	}
	return r.MFAToken
}

func otpGrant(t *testing.T, app *apptest.App, token, code string, extra ...string) (*testkit.Response, mfaResponse) {
	t.Helper()
	res := app.Do(http.MethodPost, "/api/auth/login", form(append([]string{"grant_type", grantMFAOTP, "mfa_token", token, "otp", code}, extra...)...))
	var r mfaResponse
	res.JSON(t, &r)
	return res, r
}

func recoveryCodeGrant(t *testing.T, app *apptest.App, token, code string) (*testkit.Response, mfaResponse) {
	t.Helper()
	res := app.Do(http.MethodPost, "/api/auth/login", form("grant_type", grantMFARecovery, "mfa_token", token, "recovery_code", code))
	var r mfaResponse
	res.JSON(t, &r)
	return res, r
}

// successes counts the 200s among statuses.
func successes(statuses []int) int {
	n := 0
	for _, s := range statuses {
		if s == http.StatusOK {
			n++
		}
	}
	return n
}

// refusedGrant fails unless res is the one answer of a failed MFA grant.
func refusedGrant(t *testing.T, res *testkit.Response, r mfaResponse) {
	t.Helper()
	if res.Status != http.StatusBadRequest || r.Error != "invalid_grant" || r.AccessToken != "" {
		t.Fatalf("want invalid_grant, got %d %s", res.Status, res.Body)
	}
}

// TestMFAAttacks: ways around the second factor, on both databases. Each
// case first shows the path working where it should (the control), so
// the refusal is caused by what the case changes.
func TestMFAAttacks(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db, testkit.WithEnv("AUTH_THROTTLE_IP_LIMIT", "100000"), testkit.WithEnv("AUTH_MFA_THROTTLE_LIMIT", "5"),
			testkit.WithEnv("OAUTH_CLIENTS", "default,other-app"))
		cases := []attack{
			{"totp-replay", "ASVS 5.0 V6.5.1 (a TOTP is usable once)", func(t *testing.T) {
				e := enrolSession(t, app, newSession(t, app))
				next := totpCode(t, e.Secret, 1)
				if res, _ := otpGrant(t, app, mfaToken(t, app, e.User), next); res.Status != http.StatusOK {
					t.Fatalf("control: %d %s", res.Status, res.Body)
				}
				res, r := otpGrant(t, app, mfaToken(t, app, e.User), next)
				refusedGrant(t, res, r)
				// The confirmation's own code is spent too.
				res, r = otpGrant(t, app, mfaToken(t, app, e.User), totpCode(t, e.Secret, 0))
				refusedGrant(t, res, r)
			}},
			{"totp-replay-concurrent", "ASVS 5.0 V6.5.1 (once, also for simultaneous requests)", func(t *testing.T) {
				e := enrolSession(t, app, newSession(t, app))
				const n = 6
				tokens := make([]string, n)
				for i := range tokens {
					tokens[i] = mfaToken(t, app, e.User)
				}
				next := totpCode(t, e.Secret, 1)
				var wg sync.WaitGroup
				statuses := make([]int, n)
				for i := range n {
					wg.Go(func() {
						statuses[i] = app.Do(http.MethodPost, "/api/auth/login", form("grant_type", grantMFAOTP, "mfa_token", tokens[i], "otp", next)).Status
					})
				}
				wg.Wait()
				ok := successes(statuses)
				if ok != 1 {
					t.Fatalf("%d of %d simultaneous uses of one code succeeded: %v", ok, n, statuses)
				}
			}},
			{"totp-brute-force-throttled", "ASVS 5.0 V6.3.1 (brute force), V6.5 (attempts per account)", func(t *testing.T) {
				e := enrolSession(t, app, newSession(t, app))
				tok := mfaToken(t, app, e.User)
				right := totpCode(t, e.Secret, 1)
				wrong := "000000"
				if wrong == right || wrong == totpCode(t, e.Secret, 0) || wrong == totpCode(t, e.Secret, 2) {
					wrong = "999999"
				}
				for range 5 {
					res, r := otpGrant(t, app, tok, wrong)
					refusedGrant(t, res, r)
				}
				// The right code now, through a new mfa_token: the counter
				// is the account's, not the token's.
				res := app.Do(http.MethodPost, "/api/auth/login", form("grant_type", grantMFAOTP, "mfa_token", mfaToken(t, app, e.User), "otp", right))
				if res.Status != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
					t.Fatalf("sixth attempt: %d %s", res.Status, res.Body)
				}
				// Control: another account is not affected.
				o := enrolSession(t, app, newSession(t, app))
				if res, _ := otpGrant(t, app, mfaToken(t, app, o.User), totpCode(t, o.Secret, 1)); res.Status != http.StatusOK {
					t.Fatalf("other account: %d %s", res.Status, res.Body)
				}
			}},
			{"recovery-code-reuse", "ASVS 5.0 V6.5.1 (a lookup secret is usable once), V6.5.2 (stored hashed)", func(t *testing.T) {
				e := enrolSession(t, app, newSession(t, app))
				code := e.RecoveryCodes[0]
				if res, _ := recoveryCodeGrant(t, app, mfaToken(t, app, e.User), code); res.Status != http.StatusOK {
					t.Fatalf("control: %d %s", res.Status, res.Body)
				}
				res, r := recoveryCodeGrant(t, app, mfaToken(t, app, e.User), code)
				refusedGrant(t, res, r)
				// Nor as an otp, nor dressed up (case, dashes).
				res, r = recoveryCodeGrant(t, app, mfaToken(t, app, e.User), strings.ToUpper(strings.ReplaceAll(code, "-", "")))
				refusedGrant(t, res, r)
				// Concurrent uses of one unused code: one wins.
				const n = 5
				tokens := make([]string, n)
				for i := range tokens {
					tokens[i] = mfaToken(t, app, e.User)
				}
				var wg sync.WaitGroup
				statuses := make([]int, n)
				for i := range n {
					wg.Go(func() {
						statuses[i] = app.Do(http.MethodPost, "/api/auth/login", form("grant_type", grantMFARecovery, "mfa_token", tokens[i], "recovery_code", e.RecoveryCodes[1])).Status
					})
				}
				wg.Wait()
				ok := successes(statuses)
				if ok != 1 {
					t.Fatalf("%d of %d simultaneous uses of one recovery code succeeded: %v", ok, n, statuses)
				}
			}},
			{"bypass-through-refresh", "ASVS 5.0 V6.3.4 (every pathway enforces the same strength)", func(t *testing.T) {
				// A session opened with the password alone, before the
				// second factor existed: the enrolment ends it.
				u := newSession(t, app)
				stale, _ := login(t, app, u.Email, u.Password)
				var old tokenResponse
				stale.JSON(t, &old)
				if res, _ := refresh(t, app, old.RefreshToken); res.Status != http.StatusOK {
					t.Fatalf("control: %d %s", res.Status, res.Body)
				}
				e := enrolSession(t, app, u)
				if res, _ := refresh(t, app, old.RefreshToken); res.Status != http.StatusBadRequest {
					t.Fatalf("pre-enrolment refresh token after enrolment: %d %s", res.Status, res.Body)
				}
				// The enrolling session itself is kept and refreshes to
				// tokens that say a second factor was shown.
				res, fresh := refresh(t, app, e.Refresh)
				if res.Status != http.StatusOK {
					t.Fatalf("enrolling session: %d %s", res.Status, res.Body)
				}
				amr, _ := claimsOf(t, fresh.AccessToken)["amr"].([]any)
				if len(amr) != 2 || amr[1] != "otp" {
					t.Fatalf("amr after enrolment = %v", amr)
				}
			}},
			{"bypass-through-api-key-created-before-enrolment", "ASVS 5.0 V6.3.4 (no pathway around the second factor)", func(t *testing.T) {
				s := newSession(t, app)
				k := createKey(t, app, s.Access)
				app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(k.Secret)).Expect(http.StatusOK)
				enrolSession(t, app, s)
				app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(k.Secret)).Expect(http.StatusUnauthorized)
				// A key made after enrolment, from a session that passed
				// the second factor, works.
				e := createKey(t, app, s.Access)
				app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(e.Secret)).Expect(http.StatusOK)
			}},
			{"used-mfa-token", "ASVS 5.0 V6.5.1 (the sign-in's proof of the password is single-use)", func(t *testing.T) {
				e := enrolSession(t, app, newSession(t, app))
				tok := mfaToken(t, app, e.User)
				if res, _ := otpGrant(t, app, tok, totpCode(t, e.Secret, 1)); res.Status != http.StatusOK {
					t.Fatalf("control: %d %s", res.Status, res.Body)
				}
				res, r := recoveryCodeGrant(t, app, tok, e.RecoveryCodes[0])
				refusedGrant(t, res, r)
				// The refusal used up no recovery code.
				if res, _ := recoveryCodeGrant(t, app, mfaToken(t, app, e.User), e.RecoveryCodes[0]); res.Status != http.StatusOK {
					t.Fatalf("recovery code after the refused grant: %d %s", res.Status, res.Body)
				}
			}},
			{"stale-mfa-token", "ASVS 5.0 V6.5.5 (a defined, short lifetime: AUTH_MFA_TOKEN_TTL)", func(t *testing.T) {
				e := enrolSession(t, app, newSession(t, app))
				tok := mfaToken(t, app, e.User)
				// Age every stored mfa_token of the account past its expiry.
				q, args := entsql.Dialect(db.Dialect).Update("mfa_challenges").
					Set("expires_at", time.Now().Add(-time.Second).UTC()).Where(entsql.EQ("user_id", e.ID)).Query()
				if _, err := db.SQL.ExecContext(t.Context(), q, args...); err != nil {
					t.Fatal(err)
				}
				res, r := recoveryCodeGrant(t, app, tok, e.RecoveryCodes[0])
				refusedGrant(t, res, r)
				if res, _ := recoveryCodeGrant(t, app, mfaToken(t, app, e.User), e.RecoveryCodes[0]); res.Status != http.StatusOK {
					t.Fatalf("control with a fresh mfa_token: %d %s", res.Status, res.Body)
				}
			}},
			{"mfa-token-of-another-account", "ASVS 5.0 V6.3.4; the mfa_token is bound to its account", func(t *testing.T) {
				a := enrolSession(t, app, newSession(t, app))
				b := enrolSession(t, app, newSession(t, app))
				// A's password (so A's mfa_token) with B's valid code.
				res, r := otpGrant(t, app, mfaToken(t, app, a.User), totpCode(t, b.Secret, 1))
				refusedGrant(t, res, r)
				res, r = recoveryCodeGrant(t, app, mfaToken(t, app, a.User), b.RecoveryCodes[0])
				refusedGrant(t, res, r)
				// B's code and recovery code still work for B.
				if res, _ := otpGrant(t, app, mfaToken(t, app, b.User), totpCode(t, b.Secret, 1)); res.Status != http.StatusOK {
					t.Fatalf("B's own code: %d %s", res.Status, res.Body)
				}
				if res, _ := recoveryCodeGrant(t, app, mfaToken(t, app, b.User), b.RecoveryCodes[0]); res.Status != http.StatusOK {
					t.Fatalf("B's own recovery code: %d %s", res.Status, res.Body)
				}
			}},
			{"mfa-token-of-another-client", "ASVS 5.0 V6.3.4; RFC 6749 §6's client binding, applied to the mfa_token", func(t *testing.T) {
				e := enrolSession(t, app, newSession(t, app))
				tok := mfaToken(t, app, e.User, "client_id", "other-app")
				res, r := otpGrant(t, app, tok, totpCode(t, e.Secret, 1))
				refusedGrant(t, res, r)
				if res, _ := otpGrant(t, app, tok, totpCode(t, e.Secret, 1), "client_id", "other-app"); res.Status != http.StatusOK {
					t.Fatalf("control, its own client: %d %s", res.Status, res.Body)
				}
			}},
			{"failures-look-alike", "uniform failures, as ASVS 5.0 V6.3.8 asks of sign-in: a wrong code and a bad mfa_token are told apart by nothing", func(t *testing.T) {
				e := enrolSession(t, app, newSession(t, app))
				res1, _ := otpGrant(t, app, mfaToken(t, app, e.User), "000001")
				res2, _ := otpGrant(t, app, "mfa_"+strings.Repeat("A", 43), totpCode(t, e.Secret, 1))
				res3, _ := otpGrant(t, app, "not-even-a-token", totpCode(t, e.Secret, 1))
				if res1.Status != res2.Status || string(res1.Body) != string(res2.Body) || string(res2.Body) != string(res3.Body) {
					t.Fatalf("answers differ:\n%s\n%s\n%s", res1.Body, res2.Body, res3.Body)
				}
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

// TestMFARequiredForAdmins: with AUTH_MFA_REQUIRED_FOR_ADMINS, an
// administrator without a second factor is refused at sign-in with a
// code that says why, while other accounts sign in as before. ASVS 5.0
// V6.3.3 (multi-factor for privileged access).
func TestMFARequiredForAdmins(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db, testkit.WithEnv("AUTH_MFA_REQUIRED_FOR_ADMINS", "true"))
		res, tr := login(t, app, apptest.SuperuserEmail, apptest.SuperuserPassword)
		if res.Status != http.StatusForbidden || tr.Error != "mfa_enrollment_required" || tr.AccessToken != "" {
			t.Fatalf("admin without a second factor: %d %s", res.Status, res.Body)
		}
		app.Do(http.MethodPost, "/api/auth/register", map[string]string{"email": "plain@example.test", "password": "a long enough passphrase"}).Expect(http.StatusCreated)
		if res, _ := login(t, app, "plain@example.test", "a long enough passphrase"); res.Status != http.StatusOK {
			t.Fatalf("non-admin: %d %s", res.Status, res.Body)
		}
		// A wrong password is the usual answer: the rule is applied only
		// to who proved the password.
		if res, tr := login(t, app, apptest.SuperuserEmail, "wrong password!"); res.Status != http.StatusBadRequest || tr.Error != "invalid_grant" {
			t.Fatalf("admin, wrong password: %d %s", res.Status, res.Body)
		}
	})
}

// TestMFADailyLimit: a patient guesser who stays under the per-window
// limit meets the per-day one (ASVS 5.0 V6.3.1; NIST SP 800-63B §5.2.2).
func TestMFADailyLimit(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db, testkit.WithEnv("AUTH_MFA_THROTTLE_LIMIT", "3"), testkit.WithEnv("AUTH_MFA_THROTTLE_DAILY_LIMIT", "3"),
			testkit.WithEnv("AUTH_THROTTLE_WINDOW", "1s"))
		e := enrolSession(t, app, newSession(t, app))
		for range 3 {
			res, r := otpGrant(t, app, mfaToken(t, app, e.User), "00000")
			refusedGrant(t, res, r)
		}
		// Past the (one-second) window: only the daily counter remains.
		time.Sleep(1100 * time.Millisecond)
		res, _ := otpGrant(t, app, mfaToken(t, app, e.User), totpCode(t, e.Secret, 1))
		if res.Status != http.StatusTooManyRequests {
			t.Fatalf("fourth attempt of the day: %d %s", res.Status, res.Body)
		}
	})
}
