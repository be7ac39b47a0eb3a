package authattack

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// attack is one case: what it does, the requirement it checks, and the
// check itself.
type attack struct {
	name string
	cite string
	run  func(t *testing.T)
}

// TestAttacks runs every case against one application per database. Each
// case that forges a token changes one thing from a token the control case
// proves valid, so a refusal is caused by that one thing.
func TestAttacks(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		// A generous throttle here: these cases fail on purpose; the
		// throttling cases run on their own application.
		app := apptest.Start(t, db, testkit.WithEnv("AUTH_THROTTLE_ACCOUNT_IP_LIMIT", "1000"), testkit.WithEnv("AUTH_THROTTLE_ACCOUNT_LIMIT", "2000"), testkit.WithEnv("AUTH_THROTTLE_IP_LIMIT", "100000"),
			// A second registered client, for the refresh-token binding case.
			testkit.WithEnv("OAUTH_CLIENTS", "default,other-app"))
		victim := newSession(t, app)
		key := parseKey(t, testkit.SigningKeyPEM(t))
		f := forger{t: t, key: key, kid: headerOf(t, victim.Access)["kid"].(string), app: app, s: victim}
		pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&key.PublicKey))})
		attacker, _ := rsa.GenerateKey(rand.Reader, 2048)
		parts := strings.Split(victim.Access, ".")

		// An outbound fetch of jku/x5u would land here.
		var fetched atomic.Int32
		trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fetched.Add(1) }))
		defer trap.Close()

		refused := func(t *testing.T, tok string) {
			t.Helper()
			res := app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(tok))
			if res.Status != http.StatusUnauthorized || !strings.Contains(res.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Fatalf("forged token: %d %v %s", res.Status, res.Header.Get("WWW-Authenticate"), res.Body)
			}
		}

		cases := []attack{
			{"control-forger-token-accepted", "test validity: the forging helper's token is accepted", func(t *testing.T) {
				if s := me(app, f.rs256(nil)); s != http.StatusOK {
					t.Fatalf("control: %d", s)
				}
			}},
			{"alg-none", "RFC 8725 §3.1 (alg none)", func(t *testing.T) {
				refused(t, b64(`{"alg":"none","typ":"at+jwt","kid":"`+f.kid+`"}`)+"."+parts[1]+".")
			}},
			{"alg-None-mixed-case", "RFC 8725 §3.1; RFC 7518 §3.6", func(t *testing.T) {
				refused(t, b64(`{"alg":"None","typ":"at+jwt","kid":"`+f.kid+`"}`)+"."+parts[1]+".")
			}},
			{"hs256-keyed-with-public-key", "RFC 8725 §2.1, §3.1 (algorithm confusion)", func(t *testing.T) {
				refused(t, f.sign(jwt.SigningMethodHS256, pubPEM, nil, nil))
			}},
			{"hs512-keyed-with-public-key", "RFC 8725 §3.1", func(t *testing.T) {
				refused(t, f.sign(jwt.SigningMethodHS512, pubPEM, nil, nil))
			}},
			{"ps256-same-key", "RFC 8725 §3.1 (one pinned algorithm per key)", func(t *testing.T) {
				refused(t, f.sign(jwt.SigningMethodPS256, key, nil, nil))
			}},
			{"rs512-same-key", "RFC 8725 §3.1", func(t *testing.T) {
				refused(t, f.sign(jwt.SigningMethodRS512, key, nil, nil))
			}},
			{"edited-payload", "RFC 7515 §5.2 (signature covers the payload)", func(t *testing.T) {
				other := app.NewUser(true)
				payload := strings.Replace(string(must(base64.RawURLEncoding.DecodeString(parts[1]))), victim.ID.String(), other.ID.String(), 1)
				refused(t, parts[0]+"."+b64(payload)+"."+parts[2])
			}},
			{"stripped-signature", "RFC 7515 §5.2; RFC 8725 §3.1", func(t *testing.T) {
				refused(t, parts[0]+"."+parts[1]+".")
			}},
			{"signed-by-another-key", "RFC 7515 §5.2; ASVS 5.0 V9.1 (token integrity)", func(t *testing.T) {
				refused(t, f.sign(jwt.SigningMethodRS256, attacker, nil, nil))
			}},
			{"unknown-kid", "RFC 8725 §3.10; ASVS 5.0 V9.1 (keys from a pre-configured set)", func(t *testing.T) {
				refused(t, f.sign(jwt.SigningMethodRS256, key, map[string]any{"kid": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}, nil))
			}},
			{"path-like-kid", "RFC 8725 §3.10 (kid is not a path)", func(t *testing.T) {
				refused(t, f.sign(jwt.SigningMethodHS256, []byte(""), map[string]any{"kid": "../../../../../../dev/null"}, nil))
			}},
			{"sql-like-kid", "RFC 8725 §3.10 (kid is not a query)", func(t *testing.T) {
				refused(t, f.sign(jwt.SigningMethodRS256, key, map[string]any{"kid": "x' UNION SELECT 'k' --"}, nil))
			}},
			{"missing-kid", "RFC 7515 §4.1.4; RFC 8725 §3.10", func(t *testing.T) {
				refused(t, f.sign(jwt.SigningMethodRS256, key, map[string]any{"kid": nil}, nil))
			}},
			{"jku-header-not-followed", "RFC 8725 §3.10; RFC 7515 §4.1.2 (no outbound fetch)", func(t *testing.T) {
				refused(t, f.sign(jwt.SigningMethodRS256, attacker, map[string]any{"jku": trap.URL + "/jwks.json", "kid": "attacker"}, nil))
				if n := fetched.Load(); n != 0 {
					t.Fatalf("the server fetched the jku URL %d times", n)
				}
			}},
			{"x5u-header-not-followed", "RFC 8725 §3.10; RFC 7515 §4.1.5", func(t *testing.T) {
				refused(t, f.sign(jwt.SigningMethodRS256, attacker, map[string]any{"x5u": trap.URL + "/cert.pem", "kid": "attacker"}, nil))
				if n := fetched.Load(); n != 0 {
					t.Fatalf("the server fetched the x5u URL %d times", n)
				}
			}},
			{"embedded-jwk-not-trusted", "RFC 7515 §4.1.3; RFC 8725 §3.10", func(t *testing.T) {
				jwk := map[string]any{"kty": "RSA", "n": base64.RawURLEncoding.EncodeToString(attacker.N.Bytes()),
					"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(attacker.E)).Bytes())}
				refused(t, f.sign(jwt.SigningMethodRS256, attacker, map[string]any{"jwk": jwk}, nil))
			}},
			{"expired", "RFC 7519 §4.1.4; RFC 9068 §4", func(t *testing.T) {
				refused(t, f.rs256(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-2 * time.Minute).Unix() }))
			}},
			{"future-nbf", "RFC 7519 §4.1.5", func(t *testing.T) {
				refused(t, f.rs256(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(10 * time.Minute).Unix() }))
			}},
			{"future-iat", "RFC 7519 §4.1.6; ASVS 5.0 V9.2 (token validity period)", func(t *testing.T) {
				refused(t, f.rs256(func(c jwt.MapClaims) { c["iat"] = time.Now().Add(10 * time.Minute).Unix() }))
			}},
			{"missing-exp", "RFC 9068 §2.2 (exp required)", func(t *testing.T) {
				refused(t, f.rs256(func(c jwt.MapClaims) { delete(c, "exp") }))
			}},
			{"wrong-iss", "RFC 9068 §4; RFC 8725 §3.8", func(t *testing.T) {
				refused(t, f.rs256(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }))
			}},
			{"missing-aud", "RFC 9068 §4; RFC 8725 §3.9", func(t *testing.T) {
				refused(t, f.rs256(func(c jwt.MapClaims) { delete(c, "aud") }))
			}},
			{"wrong-aud", "RFC 8725 §3.9; ASVS 5.0 V9.2 (audience)", func(t *testing.T) {
				refused(t, f.rs256(func(c jwt.MapClaims) { c["aud"] = "another-api" }))
			}},
			{"wrong-typ", "RFC 9068 §4; RFC 8725 §3.11 (explicit typing)", func(t *testing.T) {
				refused(t, f.sign(jwt.SigningMethodRS256, key, map[string]any{"typ": "JWT"}, nil))
			}},
			{"missing-typ", "RFC 8725 §3.11", func(t *testing.T) {
				refused(t, f.sign(jwt.SigningMethodRS256, key, map[string]any{"typ": nil}, nil))
			}},
			{"missing-sid", "ASVS 5.0 V7.4 (server-side termination needs a session reference)", func(t *testing.T) {
				refused(t, f.rs256(func(c jwt.MapClaims) { delete(c, "sid") }))
			}},
			{"sid-of-another-user", "ASVS 5.0 V7.2 (session bound to its user)", func(t *testing.T) {
				other := newSession(t, app)
				refused(t, f.rs256(func(c jwt.MapClaims) { c["sid"] = other.SID }))
			}},
			{"refresh-token-as-bearer", "RFC 6749 §1.5 (refresh tokens are for the token endpoint only)", func(t *testing.T) {
				s := newSession(t, app)
				refused(t, s.Refresh)
			}},
			{"access-token-as-refresh-token", "RFC 6749 §6", func(t *testing.T) {
				s := newSession(t, app)
				res, tr := refresh(t, app, s.Access)
				if res.Status != http.StatusBadRequest || tr.Error != "invalid_grant" {
					t.Fatalf("access token accepted as refresh token: %d %s", res.Status, res.Body)
				}
			}},
			{"refresh-reuse-revokes-family", "RFC 9700 §4.14.2 (rotation with reuse detection)", func(t *testing.T) {
				s := newSession(t, app)
				res, child := refresh(t, app, s.Refresh)
				if res.Status != http.StatusOK || child.RefreshToken == s.Refresh {
					t.Fatalf("first refresh: %d %s", res.Status, res.Body)
				}
				// Outside the grace window (ended by rotating the child too).
				res, grand := refresh(t, app, child.RefreshToken)
				if res.Status != http.StatusOK {
					t.Fatalf("second refresh: %d %s", res.Status, res.Body)
				}
				if res, _ := refresh(t, app, s.Refresh); res.Status != http.StatusBadRequest {
					t.Fatalf("reused refresh token: %d %s", res.Status, res.Body)
				}
				// The whole family is dead: the newest refresh token and
				// every access token issued in the session.
				if res, _ := refresh(t, app, grand.RefreshToken); res.Status != http.StatusBadRequest {
					t.Fatalf("family survived reuse: %d", res.Status)
				}
				for _, tok := range []string{s.Access, child.AccessToken, grand.AccessToken} {
					refused(t, tok)
				}
			}},
			{"refresh-with-another-client-id", "RFC 6749 §6 (refresh token bound to its client)", func(t *testing.T) {
				s := newSession(t, app)
				res := app.Do(http.MethodPost, "/api/auth/login", form("grant_type", "refresh_token", "refresh_token", s.Refresh, "client_id", "other-app"))
				if res.Status != http.StatusBadRequest {
					t.Fatalf("refresh for another client: %d %s", res.Status, res.Body)
				}
			}},
			{"token-after-logout", "ASVS 5.0 V7.4 (logout invalidates the session)", func(t *testing.T) {
				s := newSession(t, app)
				if res := app.Do(http.MethodPost, "/api/auth/logout", nil, testkit.Bearer(s.Access)); res.Status != http.StatusNoContent {
					t.Fatalf("logout: %d %s", res.Status, res.Body)
				}
				refused(t, s.Access)
				if res, _ := refresh(t, app, s.Refresh); res.Status != http.StatusBadRequest {
					t.Fatalf("refresh after logout: %d", res.Status)
				}
			}},
			{"tokens-after-logout-all", "ASVS 5.0 V7.4 (terminate all sessions)", func(t *testing.T) {
				s := newSession(t, app)
				_, second := login(t, app, s.Email, s.Password)
				if res := app.Do(http.MethodPost, "/api/auth/logout-all", nil, testkit.Bearer(s.Access)); res.Status != http.StatusNoContent {
					t.Fatalf("logout-all: %d", res.Status)
				}
				refused(t, second.AccessToken)
				if res, _ := refresh(t, app, second.RefreshToken); res.Status != http.StatusBadRequest {
					t.Fatalf("refresh after logout-all: %d", res.Status)
				}
			}},
			{"token-after-rfc7009-revocation", "RFC 7009 §2.1", func(t *testing.T) {
				s := newSession(t, app)
				res := app.Do(http.MethodPost, "/api/auth/revoke", form("token", s.Refresh, "token_type_hint", "refresh_token"))
				if res.Status != http.StatusOK {
					t.Fatalf("revoke: %d %s", res.Status, res.Body)
				}
				refused(t, s.Access)
				// Unknown tokens get the same 200 (RFC 7009 §2.2).
				if res := app.Do(http.MethodPost, "/api/auth/revoke", form("token", "no-such-token")); res.Status != http.StatusOK {
					t.Fatalf("revoke unknown: %d", res.Status)
				}
			}},
			{"token-after-password-change", "ASVS 5.0 V7.4 (credential change ends other sessions)", func(t *testing.T) {
				s := newSession(t, app)
				res := app.Do(http.MethodPost, "/api/users/me/password", map[string]string{"current_password": s.Password, "new_password": "a brand new passphrase"}, testkit.Bearer(s.Access))
				if res.Status != http.StatusNoContent && res.Status != http.StatusOK {
					t.Fatalf("change password: %d %s", res.Status, res.Body)
				}
				refused(t, s.Access)
				if res, _ := refresh(t, app, s.Refresh); res.Status != http.StatusBadRequest {
					t.Fatalf("refresh after password change: %d", res.Status)
				}
			}},
			{"token-after-deactivation", "ASVS 5.0 V7.4 (disabled account loses its sessions)", func(t *testing.T) {
				s := newSession(t, app)
				res := app.Do(http.MethodPatch, "/api/users/"+s.ID.String(), map[string]any{"is_active": false}, testkit.Bearer(app.SuperuserToken()))
				if res.Status != http.StatusOK {
					t.Fatalf("deactivate: %d %s", res.Status, res.Body)
				}
				refused(t, s.Access)
				// Reactivation does not bring old sessions back.
				app.Do(http.MethodPatch, "/api/users/"+s.ID.String(), map[string]any{"is_active": true}, testkit.Bearer(app.SuperuserToken()))
				refused(t, s.Access)
				if res, _ := refresh(t, app, s.Refresh); res.Status != http.StatusBadRequest {
					t.Fatalf("refresh after deactivation: %d", res.Status)
				}
			}},
			{"token-after-deletion", "ASVS 5.0 V7.4", func(t *testing.T) {
				s := newSession(t, app)
				if res := app.Do(http.MethodDelete, "/api/users/"+s.ID.String(), nil, testkit.Bearer(app.SuperuserToken())); res.Status != http.StatusNoContent {
					t.Fatalf("delete: %d %s", res.Status, res.Body)
				}
				refused(t, s.Access)
				if res, _ := refresh(t, app, s.Refresh); res.Status != http.StatusBadRequest {
					t.Fatalf("refresh after deletion: %d", res.Status)
				}
			}},
			{"get-on-token-endpoint", "RFC 6749 §3.2 (token endpoint is POST only)", func(t *testing.T) {
				res := app.Do(http.MethodGet, "/api/auth/login?grant_type=password&username="+victim.Email+"&password="+victim.Password, nil)
				if res.Status < 400 || res.Status >= 500 || bytes.Contains(res.Body, []byte("access_token")) {
					t.Fatalf("GET credentials: %d %s", res.Status, res.Body)
				}
			}},
			{"query-string-credentials-on-token-endpoint", "RFC 6749 §3.2; RFC 9700 §4.3 (no credentials in URLs)", func(t *testing.T) {
				req, _ := http.NewRequest(http.MethodPost, app.URL+"/api/auth/login?password="+victim.Password, strings.NewReader(form("grant_type", "password", "username", victim.Email).Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				res, err := app.HTTP.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				_ = res.Body.Close()
				if res.StatusCode != http.StatusBadRequest {
					t.Fatalf("query credentials: %d", res.StatusCode)
				}
			}},
			{"access-token-in-query-string", "RFC 6750 §2.3 refused; RFC 9700 §4.3", func(t *testing.T) {
				if res := app.Do(http.MethodGet, "/api/users/me?access_token="+victim.Access, nil); res.Status != http.StatusBadRequest {
					t.Fatalf("query token: %d %s", res.Status, res.Body)
				}
			}},
			{"duplicated-parameters", "RFC 6749 §3.1 (parameters must not be repeated)", func(t *testing.T) {
				v := form("grant_type", "password", "username", victim.Email, "password", "wrong", "password", victim.Password)
				res := app.Do(http.MethodPost, "/api/auth/login", v)
				if res.Status != http.StatusBadRequest || !bytes.Contains(res.Body, []byte("invalid_request")) {
					t.Fatalf("duplicated: %d %s", res.Status, res.Body)
				}
			}},
			{"oversized-form-body", "ASVS 5.0 V4.1 / V13 (input size limits)", func(t *testing.T) {
				// Over the endpoint's own 16 KiB: its RFC 6749 error.
				res := app.Do(http.MethodPost, "/api/auth/login", form("grant_type", "password", "username", victim.Email, "password", strings.Repeat("p", 20<<10)))
				if res.Status != http.StatusBadRequest || !bytes.Contains(res.Body, []byte("invalid_request")) {
					t.Fatalf("oversized form: %d %s", res.Status, res.Body)
				}
				// Over the edge's body limit: refused before it is read,
				// still in RFC 6749 form.
				res = app.Do(http.MethodPost, "/api/auth/login", form("grant_type", "password", "username", victim.Email, "password", strings.Repeat("p", 64<<10)))
				if res.Status != http.StatusRequestEntityTooLarge || !bytes.Contains(res.Body, []byte("invalid_request")) {
					t.Fatalf("form over the body limit: %d %s", res.Status, res.Body)
				}
			}},
			{"oversized-password-not-truncated", "ASVS 5.0 V6.2 (no truncation; max 128)", func(t *testing.T) {
				res, _ := login(t, app, victim.Email, victim.Password+strings.Repeat("x", 200))
				if res.Status != http.StatusBadRequest {
					t.Fatalf("long password: %d", res.Status)
				}
			}},
			{"megabyte-bearer-fast-4xx", "RFC 6750 §3.1; ASVS 5.0 V4.1 (header size limits)", func(t *testing.T) {
				req, _ := http.NewRequest(http.MethodGet, app.URL+"/api/users/me", nil)
				req.Header.Set("Authorization", "Bearer "+strings.Repeat("a", 1<<20))
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					return // the server closing the connection is a refusal too
				}
				_ = res.Body.Close()
				if res.StatusCode < 400 || res.StatusCode >= 500 {
					t.Fatalf("1 MB bearer: %d", res.StatusCode)
				}
			}},
			{"oversized-bearer-under-header-limit", "RFC 6750 §3.1 (invalid_token)", func(t *testing.T) {
				refused(t, strings.Repeat("a", 5000))
			}},
			{"oversized-json-inputs", "ASVS 5.0 V4.1 / V6.4 (input size limits; 4xx, never 5xx)", func(t *testing.T) {
				// Within the body limit: the schema's length limits, 422.
				// Beyond it: 413 before the body is read.
				for size, want := range map[int]int{50000: http.StatusUnprocessableEntity, 100000: http.StatusRequestEntityTooLarge} {
					for path, body := range map[string]map[string]string{
						"/api/auth/password-recovery": {"email": strings.Repeat("a", size) + "@example.test"},
						"/api/auth/reset-password":    {"token": strings.Repeat("t", size), "new_password": "a fine passphrase"},
					} {
						if res := app.Do(http.MethodPost, path, body); res.Status != want {
							t.Fatalf("%s with %d bytes: %d %s", path, size, res.Status, res.Body)
						}
					}
				}
			}},
			{"reset-token-guessing", "ASVS 5.0 V6.4 (reset tokens unguessable, failures uniform)", func(t *testing.T) {
				a := app.Do(http.MethodPost, "/api/auth/reset-password", map[string]string{"token": strings.Repeat("A", 43), "new_password": "a fine passphrase"})
				b := app.Do(http.MethodPost, "/api/auth/reset-password", map[string]string{"token": "short", "new_password": "a fine passphrase"})
				if a.Status != http.StatusUnprocessableEntity || a.Status != b.Status || !bytes.Contains(a.Body, []byte("invalid_reset_token")) ||
					!bytes.Contains(b.Body, []byte("invalid_reset_token")) {
					t.Fatalf("guessed tokens: %d %s / %d %s", a.Status, a.Body, b.Status, b.Body)
				}
			}},
			{"common-password-refused", "ASVS 5.0 V6.2 (breached/common password list)", func(t *testing.T) {
				res := app.Do(http.MethodPost, "/api/auth/register", map[string]string{"email": "common@example.test", "password": "password123"})
				if res.Status != http.StatusUnprocessableEntity || !bytes.Contains(res.Body, []byte("password_too_common")) {
					t.Fatalf("common password: %d %s", res.Status, res.Body)
				}
			}},
			{"session-of-another-user-not-deletable", "ASVS 5.0 V8.2 (object-level authorization)", func(t *testing.T) {
				a, b := newSession(t, app), newSession(t, app)
				if res := app.Do(http.MethodDelete, "/api/auth/sessions/"+b.SID, nil, testkit.Bearer(a.Access)); res.Status != http.StatusNotFound {
					t.Fatalf("delete another's session: %d", res.Status)
				}
				if s := me(app, b.Access); s != http.StatusOK {
					t.Fatalf("victim's session ended: %d", s)
				}
			}},
			{"security-headers", "ASVS 5.0 V3.4 (browser security headers)", func(t *testing.T) {
				res := app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(victim.Access))
				for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"} {
					if res.Header.Get(k) != want {
						t.Errorf("%s = %q", k, res.Header.Get(k))
					}
				}
				if !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
					t.Errorf("CSP = %q", res.Header.Get("Content-Security-Policy"))
				}
			}},
			{"enumeration-recovery-same-answer", "ASVS 5.0 V6.3 (no account enumeration)", func(t *testing.T) {
				a := app.Do(http.MethodPost, "/api/auth/password-recovery", map[string]string{"email": victim.Email})
				b := app.Do(http.MethodPost, "/api/auth/password-recovery", map[string]string{"email": "nobody-" + victim.Email})
				if a.Status != http.StatusAccepted || a.Status != b.Status || !bytes.Equal(a.Body, b.Body) {
					t.Fatalf("recovery differs: %d %s / %d %s", a.Status, a.Body, b.Status, b.Body)
				}
			}},
			{"enumeration-login-status-body-headers", "ASVS 5.0 V6.3; OWASP Authentication Cheat Sheet", func(t *testing.T) {
				inactive := app.NewUser(false)
				app.Do(http.MethodPatch, "/api/users/"+inactive.ID.String(), map[string]any{"is_active": false}, testkit.Bearer(app.SuperuserToken()))
				unknown, _ := login(t, app, "nobody@example.test", "some password here")
				wrong, _ := login(t, app, victim.Email, "some password here")
				off, _ := login(t, app, inactive.Email, inactive.Password)
				for _, r := range []*testkit.Response{wrong, off} {
					if r.Status != unknown.Status || !bytes.Equal(r.Body, unknown.Body) || !sameHeaders(r.Header, unknown.Header) {
						t.Fatalf("responses differ:\n%d %v %s\n%d %v %s", unknown.Status, unknown.Header, unknown.Body, r.Status, r.Header, r.Body)
					}
				}
			}},
		}
		if len(cases) < 40 {
			t.Fatalf("the suite has %d cases, want >= 40", len(cases))
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Logf("checks: %s", c.cite)
				c.run(t)
			})
		}
	})
}

// sameHeaders compares the headers an attacker could read, ignoring the
// per-response ones.
func sameHeaders(a, b http.Header) bool {
	skip := map[string]bool{"Date": true, "X-Request-Id": true, "Content-Length": true}
	for k := range a {
		if !skip[k] && fmt.Sprint(a.Values(k)) != fmt.Sprint(b.Values(k)) {
			return false
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok && !skip[k] {
			return false
		}
	}
	return true
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
