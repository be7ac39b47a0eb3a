package authapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image/png"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"go.uber.org/fx"
	"golang.org/x/oauth2"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/modules/auth/authapi"
	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

type mfaEnrolment struct {
	Secret     string `json:"secret"`
	OTPAuthURI string `json:"otpauth_uri"`
	QRCode     string `json:"qr_code"`
}

type mfaAnswer struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error"`
	Description  string `json:"error_description"`
	MFAToken     string `json:"mfa_token"`
}

// code is the TOTP code of secret at now+offset steps.
func code(t *testing.T, secret string, steps int) string {
	t.Helper()
	return codeAt(t, secret, time.Now(), steps)
}

// codeAt is the code `steps` steps from the step of at.
func codeAt(t *testing.T, secret string, at time.Time, steps int) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at.Add(time.Duration(steps)*30*time.Second), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrol gives u a confirmed TOTP factor (its code of the current step
// used up) and returns the secret and the recovery codes.
func enrol(t *testing.T, app *apptest.App, u apptest.User) (string, []string) {
	t.Helper()
	var e mfaEnrolment
	app.Do(http.MethodPost, authapi.MFAPath+"/enrolment", nil, testkit.Bearer(u.Token)).Expect(http.StatusOK).JSON(t, &e)
	var rc struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	app.Do(http.MethodPost, authapi.MFAPath+"/enrolment/confirm", map[string]string{"code": code(t, e.Secret, 0)}, testkit.Bearer(u.Token)).
		Expect(http.StatusOK).JSON(t, &rc)
	return e.Secret, rc.RecoveryCodes
}

func passwordGrant(t *testing.T, app *apptest.App, u apptest.User) (*testkit.Response, mfaAnswer) {
	t.Helper()
	res := app.Do(http.MethodPost, authapi.TokenPath, url.Values{"grant_type": {"password"}, "username": {u.Email}, "password": {u.Password}})
	var a mfaAnswer
	res.JSON(t, &a)
	return res, a
}

func mfaGrant(t *testing.T, app *apptest.App, mfaToken, otpCode string) (*testkit.Response, mfaAnswer) {
	t.Helper()
	res := app.Do(http.MethodPost, authapi.TokenPath, url.Values{"grant_type": {authapi.GrantMFAOTP}, "mfa_token": {mfaToken}, "otp": {otpCode}})
	var a mfaAnswer
	res.JSON(t, &a)
	return res, a
}

func recoveryGrant(t *testing.T, app *apptest.App, mfaToken, rc string) (*testkit.Response, mfaAnswer) {
	t.Helper()
	res := app.Do(http.MethodPost, authapi.TokenPath, url.Values{"grant_type": {authapi.GrantMFARecovery}, "mfa_token": {mfaToken}, "recovery_code": {rc}})
	var a mfaAnswer
	res.JSON(t, &a)
	return res, a
}

// amrOf reads the amr claim of an access token.
func amrOf(t *testing.T, tok string) []string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		AMR []string `json:"amr"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c.AMR
}

// TestMFAEnrolmentAndSignIn walks the whole flow: a pending enrolment
// changes nothing, a wrong code does not confirm it, a right one does and
// returns ten recovery codes; the password grant then answers
// mfa_required (Auth0's shape), the mfa-otp grant issues tokens with amr
// pwd+otp, refreshed tokens keep it, a recovery code signs in with
// pwd+mfa, and disabling needs the password and a code.
func TestMFAEnrolmentAndSignIn(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		u := app.NewUser(false)

		var st struct {
			Enabled, Pending  bool
			RecoveryCodesLeft int `json:"recovery_codes_left"`
		}
		app.Do(http.MethodGet, authapi.MFAPath, nil, testkit.Bearer(u.Token)).Expect(http.StatusOK).JSON(t, &st)
		if st.Enabled || st.Pending {
			t.Fatalf("fresh account: %+v", st)
		}
		var e mfaEnrolment
		app.Do(http.MethodPost, authapi.MFAPath+"/enrolment", nil, testkit.Bearer(u.Token)).Expect(http.StatusOK).JSON(t, &e)
		key, err := otp.NewKeyFromURL(e.OTPAuthURI)
		if err != nil || key.Secret() != e.Secret || key.AccountName() != u.Email || key.Period() != 30 || key.Digits() != otp.DigitsSix {
			t.Fatalf("otpauth URI %q: %v", e.OTPAuthURI, err)
		}
		pngData, ok := strings.CutPrefix(e.QRCode, "data:image/png;base64,")
		raw, _ := base64.StdEncoding.DecodeString(pngData)
		if img, err := png.Decode(bytes.NewReader(raw)); !ok || err != nil || img.Bounds().Dx() != 256 {
			t.Fatalf("QR code is no 256px PNG: %v", err)
		}
		app.Do(http.MethodGet, authapi.MFAPath, nil, testkit.Bearer(u.Token)).Expect(http.StatusOK).JSON(t, &st)
		if st.Enabled || !st.Pending {
			t.Fatalf("after start: %+v", st)
		}
		// Pending: sign-in still needs only the password.
		if res, _ := passwordGrant(t, app, u); res.Status != http.StatusOK {
			t.Fatalf("pending factor changed sign-in: %d %s", res.Status, res.Body)
		}
		wrong := code(t, e.Secret, 5)
		p := app.Do(http.MethodPost, authapi.MFAPath+"/enrolment/confirm", map[string]string{"code": wrong}, testkit.Bearer(u.Token)).
			Expect(http.StatusUnprocessableEntity).Problem(t)
		if len(p.Errors) != 1 || p.Errors[0].Code != "invalid_mfa_code" {
			t.Fatalf("wrong code: %+v", p)
		}
		var rc struct {
			RecoveryCodes []string `json:"recovery_codes"`
		}
		res := app.Do(http.MethodPost, authapi.MFAPath+"/enrolment/confirm", map[string]string{"code": code(t, e.Secret, 0)}, testkit.Bearer(u.Token)).
			Expect(http.StatusOK)
		res.JSON(t, &rc)
		if len(rc.RecoveryCodes) != 10 || res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("recovery codes: %v %v", rc.RecoveryCodes, res.Header)
		}
		app.Do(http.MethodGet, authapi.MFAPath, nil, testkit.Bearer(u.Token)).Expect(http.StatusOK).JSON(t, &st)
		if !st.Enabled || st.RecoveryCodesLeft != 10 {
			t.Fatalf("after confirm: %+v", st)
		}
		// Starting again while enabled is refused.
		app.Do(http.MethodPost, authapi.MFAPath+"/enrolment", nil, testkit.Bearer(u.Token)).Expect(http.StatusConflict)

		res, a := passwordGrant(t, app, u)
		if res.Status != http.StatusForbidden || a.Error != "mfa_required" || !strings.HasPrefix(a.MFAToken, "mfa_") || a.AccessToken != "" || a.Description == "" {
			t.Fatalf("password grant of an enrolled account: %d %s", res.Status, res.Body)
		}
		if res.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("mfa_required is cacheable: %v", res.Header)
		}
		res, tok := mfaGrant(t, app, a.MFAToken, code(t, e.Secret, 1))
		if res.Status != http.StatusOK || tok.RefreshToken == "" {
			t.Fatalf("mfa-otp grant: %d %s", res.Status, res.Body)
		}
		if got := amrOf(t, tok.AccessToken); !slices.Equal(got, []string{"pwd", "otp"}) {
			t.Fatalf("amr = %v", got)
		}
		app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(tok.AccessToken)).Expect(http.StatusOK)
		var refreshed mfaAnswer
		app.Do(http.MethodPost, authapi.TokenPath, refreshForm(tok.RefreshToken)).Expect(http.StatusOK).JSON(t, &refreshed)
		if got := amrOf(t, refreshed.AccessToken); !slices.Equal(got, []string{"pwd", "otp"}) {
			t.Fatalf("refreshed amr = %v", got)
		}

		// A recovery code, typed in upper case without dashes.
		_, a = passwordGrant(t, app, u)
		typed := strings.ToUpper(strings.ReplaceAll(rc.RecoveryCodes[3], "-", ""))
		res, tok = recoveryGrant(t, app, a.MFAToken, typed)
		if res.Status != http.StatusOK {
			t.Fatalf("recovery grant: %d %s", res.Status, res.Body)
		}
		if got := amrOf(t, tok.AccessToken); !slices.Equal(got, []string{"pwd", "mfa"}) {
			t.Fatalf("recovery amr = %v", got)
		}
		app.Do(http.MethodGet, authapi.MFAPath, nil, testkit.Bearer(tok.AccessToken)).Expect(http.StatusOK).JSON(t, &st)
		if st.RecoveryCodesLeft != 9 {
			t.Fatalf("codes left = %d", st.RecoveryCodesLeft)
		}

		// Disable: a wrong password with a right code, and a right
		// password with a wrong code, get the same answer; both right works.
		p1 := app.Do(http.MethodPost, authapi.MFAPath+"/disable", map[string]string{"password": "wrong", "code": rc.RecoveryCodes[0]}, testkit.Bearer(tok.AccessToken)).
			Expect(http.StatusUnprocessableEntity).Problem(t)
		p2 := app.Do(http.MethodPost, authapi.MFAPath+"/disable", map[string]string{"password": u.Password, "code": "000000"}, testkit.Bearer(tok.AccessToken)).
			Expect(http.StatusUnprocessableEntity).Problem(t)
		if p1.Detail != p2.Detail || p1.Errors[0].Code != p2.Errors[0].Code {
			t.Fatalf("disable failures differ: %+v / %+v", p1, p2)
		}
		app.Do(http.MethodPost, authapi.MFAPath+"/disable", map[string]string{"password": u.Password, "code": rc.RecoveryCodes[0]}, testkit.Bearer(tok.AccessToken)).
			Expect(http.StatusNoContent)
		if res, _ := passwordGrant(t, app, u); res.Status != http.StatusOK {
			t.Fatalf("after disable: %d %s", res.Status, res.Body)
		}
	})
}

// TestMFAEnrolmentNeedsRecentSession: starting an enrolment and disabling
// are step-up operations; an API key can do none of it.
func TestMFAEnrolmentNeedsRecentSession(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		u := app.NewUser(false)
		var key struct {
			Secret string `json:"secret"`
		}
		app.Do(http.MethodPost, authapi.APIKeysPath, map[string]any{"name": "k", "permissions": []string{}}, testkit.Bearer(u.Token)).
			Expect(http.StatusCreated).JSON(t, &key)
		for _, path := range []string{"", "/enrolment", "/enrolment/confirm", "/disable"} {
			method := http.MethodPost
			var body any = map[string]string{"code": "123456", "password": "x"}
			switch path {
			case "":
				method, body = http.MethodGet, nil
			case "/enrolment":
				body = nil
			}
			if p := app.Do(method, authapi.MFAPath+path, body, testkit.Bearer(key.Secret)).Expect(http.StatusForbidden).Problem(t); p.Code != "session_required" {
				t.Fatalf("%s with an API key: %+v", path, p)
			}
		}
		app.Do(http.MethodPost, authapi.MFAPath+"/enrolment", nil).Expect(http.StatusUnauthorized)
	})
}

// TestOAuth2ClientSignsInWithMFA: golang.org/x/oauth2 signs in to an
// enrolled account: the password grant fails with a RetrieveError whose
// ErrorCode is mfa_required and whose body carries the mfa_token; the
// mfa-otp grant goes through Config.Exchange with its parameters
// (x/oauth2 has no generic grant call; Exchange posts to the token URL
// and its options set any form field, grant_type included); the
// TokenSource then refreshes as usual and keeps the second factor.
func TestOAuth2ClientSignsInWithMFA(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db, withClients)
		u := app.NewUser(false)
		secret, _ := enrol(t, app, u)

		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, app.HTTP)
		conf := &oauth2.Config{ClientID: "web", Endpoint: oauth2.Endpoint{TokenURL: app.URL + authapi.TokenPath, AuthStyle: oauth2.AuthStyleInParams}}
		_, err := conf.PasswordCredentialsToken(ctx, u.Email, u.Password)
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "mfa_required" || re.Response.StatusCode != http.StatusForbidden {
			t.Fatalf("password grant: %v", err)
		}
		var body struct {
			MFAToken string `json:"mfa_token"`
		}
		if err := json.Unmarshal(re.Body, &body); err != nil || body.MFAToken == "" {
			t.Fatalf("mfa_token in %s: %v", re.Body, err)
		}
		tok, err := conf.Exchange(ctx, "",
			oauth2.SetAuthURLParam("grant_type", authapi.GrantMFAOTP),
			oauth2.SetAuthURLParam("mfa_token", body.MFAToken),
			oauth2.SetAuthURLParam("otp", code(t, secret, 1)))
		if err != nil || tok.RefreshToken == "" {
			t.Fatalf("mfa-otp grant: %v", err)
		}
		if got := amrOf(t, tok.AccessToken); !slices.Equal(got, []string{"pwd", "otp"}) {
			t.Fatalf("amr = %v", got)
		}
		tok.Expiry = time.Now().Add(-time.Minute)
		fresh, err := conf.TokenSource(ctx, tok).Token()
		if err != nil || fresh.AccessToken == tok.AccessToken {
			t.Fatalf("refresh: %v", err)
		}
		if got := amrOf(t, fresh.AccessToken); !slices.Equal(got, []string{"pwd", "otp"}) {
			t.Fatalf("refreshed amr = %v", got)
		}
		res, err := conf.Client(ctx, fresh).Get(app.URL + "/api/users/me")
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("me: %v %v", err, res)
		}
		_ = res.Body.Close()
	})
}

// TestMFACodeWindow: a code is accepted one 30-second step either side of
// now and no further (RFC 6238 §5.2's drift allowance), and never for a
// step at or before the last one accepted.
func TestMFACodeWindow(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		// The server's clock is pinned to the instant the codes are made
		// from: on the wall clock, a step boundary passing between making
		// a code and checking it moves the code out of the window.
		var mfa *authsvc.MFA
		app := apptest.Start(t, db, testkit.WithFx(fx.Populate(&mfa)))
		at := time.Now()
		mfa.SetClock(func() time.Time { return at })
		code := func(_ *testing.T, secret string, steps int) string { return codeAt(t, secret, at, steps) }
		u := app.NewUser(false)
		var e mfaEnrolment
		app.Do(http.MethodPost, authapi.MFAPath+"/enrolment", nil, testkit.Bearer(u.Token)).Expect(http.StatusOK).JSON(t, &e)
		// Two steps behind: refused; one behind: accepted.
		for _, c := range []struct {
			steps  int
			status int
		}{{-3, http.StatusUnprocessableEntity}, {3, http.StatusUnprocessableEntity}, {-1, http.StatusOK}} {
			got := code(t, e.Secret, c.steps)
			if c.status != http.StatusOK && (got == code(t, e.Secret, -1) || got == code(t, e.Secret, 0) || got == code(t, e.Secret, 1)) {
				continue // the far code happens to equal a near one
			}
			app.Do(http.MethodPost, authapi.MFAPath+"/enrolment/confirm", map[string]string{"code": got}, testkit.Bearer(u.Token)).Expect(c.status)
		}
		// Two ahead: out of the window; one ahead: in it.
		_, a := passwordGrant(t, app, u)
		if far := code(t, e.Secret, 3); far != code(t, e.Secret, 1) && far != code(t, e.Secret, 0) {
			if res, _ := mfaGrant(t, app, a.MFAToken, far); res.Status != http.StatusBadRequest {
				t.Fatalf("code three steps ahead: %d %s", res.Status, res.Body)
			}
		}
		if res, _ := mfaGrant(t, app, a.MFAToken, code(t, e.Secret, 1)); res.Status != http.StatusOK {
			t.Fatalf("code one step ahead: %d %s", res.Status, res.Body)
		}
		// Now the current step's code is older than the last accepted one.
		_, a = passwordGrant(t, app, u)
		if res, _ := mfaGrant(t, app, a.MFAToken, code(t, e.Secret, 0)); res.Status != http.StatusBadRequest {
			t.Fatalf("code of an earlier step: %d %s", res.Status, res.Body)
		}
	})
}

// TestMFAHostileInput: codes and tokens that are no such thing (multibyte
// digits, NUL, oversized, empty) are refused as a wrong code would be,
// never a 500.
func TestMFAHostileInput(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db, testkit.WithEnv("AUTH_MFA_THROTTLE_LIMIT", "100"), testkit.WithEnv("AUTH_MFA_THROTTLE_DAILY_LIMIT", "1000"))
		u := app.NewUser(false)
		enrol(t, app, u)
		for _, v := range []string{"１２３４５６", "12345\x00", strings.Repeat("9", 4000), "١٢٣٤٥٦", "abcdef-ghijkl-mnopqr-stuvw\u00e9"} {
			_, a := passwordGrant(t, app, u)
			for _, grant := range []string{authapi.GrantMFAOTP, authapi.GrantMFARecovery} {
				field := "otp"
				if grant == authapi.GrantMFARecovery {
					field = "recovery_code"
				}
				res := app.Do(http.MethodPost, authapi.TokenPath, url.Values{"grant_type": {grant}, "mfa_token": {a.MFAToken}, field: {v}})
				if res.Status != http.StatusBadRequest {
					t.Fatalf("%s %q: %d %s", grant, v, res.Status, res.Body)
				}
				res = app.Do(http.MethodPost, authapi.TokenPath, url.Values{"grant_type": {grant}, "mfa_token": {v}, field: {"123456"}})
				if res.Status != http.StatusBadRequest {
					t.Fatalf("%s mfa_token %q: %d %s", grant, v, res.Status, res.Body)
				}
			}
			res := app.Do(http.MethodPost, authapi.MFAPath+"/disable", map[string]string{"password": u.Password, "code": v}, testkit.Bearer(u.Token))
			if res.Status != http.StatusUnprocessableEntity {
				t.Fatalf("disable with %q: %d %s", v, res.Status, res.Body)
			}
		}
		// A grant missing its code is invalid_request.
		_, a := passwordGrant(t, app, u)
		res := app.Do(http.MethodPost, authapi.TokenPath, url.Values{"grant_type": {authapi.GrantMFAOTP}, "mfa_token": {a.MFAToken}})
		var e mfaAnswer
		res.JSON(t, &e)
		if res.Status != http.StatusBadRequest || e.Error != "invalid_request" {
			t.Fatalf("missing otp: %d %s", res.Status, res.Body)
		}
	})
}
