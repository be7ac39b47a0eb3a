package authapi_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/buildinfo"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// TestOAuth2Client runs the password grant with golang.org/x/oauth2, the
// way a real client library does (it tries client credentials in a Basic
// header first).
func TestOAuth2Client(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db, withClients)
		u := app.NewUser(false)
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, app.HTTP)
		conf := &oauth2.Config{ClientID: "web", Endpoint: oauth2.Endpoint{TokenURL: app.URL + "/api/auth/login"}}

		tok, err := conf.PasswordCredentialsToken(ctx, strings.ToUpper(u.Email), u.Password)
		if err != nil {
			t.Fatalf("PasswordCredentialsToken: %v", err)
		}
		if tok.TokenType != "bearer" || tok.AccessToken == "" || time.Until(tok.Expiry) < 10*time.Minute {
			t.Fatalf("token = %+v", tok)
		}
		res, err := conf.Client(ctx, tok).Get(app.URL + "/api/users/me")
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("me with oauth2 client: %v %v", err, res)
		}
		_ = res.Body.Close()

		_, err = conf.PasswordCredentialsToken(ctx, u.Email, "wrong password")
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != http.StatusBadRequest {
			t.Fatalf("wrong password error = %v", err)
		}
	})
}

func TestTokenEndpointErrors(t *testing.T) {
	db := testkit.NewDB(t, "sqlite3")
	app := apptest.Start(t, db)
	u := app.NewUser(false)
	inactive := app.NewUser(false)
	res := app.Do(http.MethodPatch, "/api/users/"+inactive.ID.String(), map[string]any{"is_active": false}, testkit.Bearer(app.SuperuserToken()))
	if res.Status != http.StatusOK {
		t.Fatalf("deactivate: %d", res.Status)
	}

	form := func(kv ...string) url.Values {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Add(kv[i], kv[i+1])
		}
		return v
	}
	cases := []struct {
		name string
		path string
		body any
		ct   string
		want string
	}{
		{"missing-grant-type", "", form("username", u.Email, "password", u.Password), "", "invalid_request"},
		{"missing-username", "", form("grant_type", "password", "password", u.Password), "", "invalid_request"},
		{"missing-password", "", form("grant_type", "password", "username", u.Email), "", "invalid_request"},
		{"json-body", "", `{"grant_type":"password","username":"` + u.Email + `","password":"` + u.Password + `"}`, "application/json", "invalid_request"},
		{"repeated-parameter", "", form("grant_type", "password", "username", u.Email, "password", u.Password, "password", u.Password), "", "invalid_request"},
		{"query-string-credentials", "?username=" + url.QueryEscape(u.Email) + "&password=" + url.QueryEscape(u.Password), form("grant_type", "password"), "", "invalid_request"},
		{"unsupported-grant", "", form("grant_type", "client_credentials", "username", u.Email, "password", u.Password), "", "unsupported_grant_type"},
		{"wrong-password", "", form("grant_type", "password", "username", u.Email, "password", "not the password"), "", "invalid_grant"},
		{"unknown-user", "", form("grant_type", "password", "username", "ghost@example.test", "password", "not the password"), "", "invalid_grant"},
		{"inactive-user", "", form("grant_type", "password", "username", inactive.Email, "password", inactive.Password), "", "invalid_grant"},
	}
	var grantBodies []string
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := app.Do(http.MethodPost, "/api/auth/login"+c.path, c.body)
			if res.Status != http.StatusBadRequest {
				t.Fatalf("status = %d: %s", res.Status, res.Body)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q", cc)
			}
			var body map[string]string
			if err := json.Unmarshal(res.Body, &body); err != nil || body["error"] != c.want {
				t.Fatalf("body = %s, want error %q", res.Body, c.want)
			}
			if c.want == "invalid_grant" {
				grantBodies = append(grantBodies, string(res.Body))
			}
		})
	}
	// Unknown user, wrong password and inactive account are indistinguishable.
	for _, b := range grantBodies[1:] {
		if b != grantBodies[0] {
			t.Fatalf("invalid_grant bodies differ: %q vs %q", b, grantBodies[0])
		}
	}

	// A successful response is not cacheable either.
	res = app.Do(http.MethodPost, "/api/auth/login", form("grant_type", "password", "username", u.Email, "password", u.Password))
	if res.Status != http.StatusOK || res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("Pragma") != "no-cache" {
		t.Fatalf("success: %d %v", res.Status, res.Header)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		TokenType   string `json:"token_type"`
		ExpiresIn   int    `json:"expires_in"`
	}
	res.JSON(t, &tok)
	if tok.TokenType != "bearer" || tok.ExpiresIn != int(accessTokenTTL.Seconds()) {
		t.Fatalf("token response = %s", res.Body)
	}
	if res := app.Do(http.MethodGet, "/api/auth/login", nil); res.Status != http.StatusMethodNotAllowed {
		t.Fatalf("GET token endpoint: %d", res.Status)
	}
}

// TestBearerTokenChecks: a missing, malformed or forged bearer token is
// refused with 401 and an RFC 6750 challenge. Which claims and algorithms
// the verifier refuses is authsvc's TestVerifyRefusesForgedTokens (and
// the attack suite's, over HTTP); the cases here prove the wiring: the
// header's forms, one forgery of each part, and a user that is not there.
func TestBearerTokenChecks(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		u := app.NewUser(false)
		key := parseKey(t, testkit.SigningKeyPEM(t))
		kid := headerOf(t, u.Token)["kid"].(string)
		// Access tokens name their session (sid), checked on every request.
		var real struct {
			SID string `json:"sid"`
		}
		rawPayload, _ := base64.RawURLEncoding.DecodeString(strings.Split(u.Token, ".")[1])
		if err := json.Unmarshal(rawPayload, &real); err != nil || real.SID == "" {
			t.Fatalf("issued token has no sid: %s", rawPayload)
		}
		now := time.Now()
		claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
			c := jwt.MapClaims{
				"sid": real.SID,
				"iss": buildinfo.Service, "aud": buildinfo.Service + "-api", "sub": u.ID.String(),
				"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": "t",
			}
			if edit != nil {
				edit(c)
			}
			return c
		}
		sign := func(c jwt.MapClaims) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
			tok.Header["kid"], tok.Header["typ"] = kid, "at+jwt"
			s, err := tok.SignedString(key)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		// The forging helper itself must produce an accepted token, or
		// every refusal below would prove nothing.
		if res := app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(sign(claims(nil)))); res.Status != http.StatusOK {
			t.Fatalf("control token refused: %d %s", res.Status, res.Body)
		}
		parts := strings.Split(u.Token, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		tampered := strings.Replace(string(payload), u.ID.String(), app.NewUser(true).ID.String(), 1)
		otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
		foreign := jwt.NewWithClaims(jwt.SigningMethodRS256, claims(nil))
		foreign.Header["kid"], foreign.Header["typ"] = kid, "at+jwt"
		foreignSigned, _ := foreign.SignedString(otherKey)

		cases := map[string]string{
			"missing":      "",
			"not-bearer":   "Basic " + base64.StdEncoding.EncodeToString([]byte("a:b")),
			"garbage":      "Bearer not.a.jwt",
			"tampered":     "Bearer " + parts[0] + "." + b64(tampered) + "." + parts[2],
			"foreign-key":  "Bearer " + foreignSigned,
			"expired":      "Bearer " + sign(claims(func(c jwt.MapClaims) { c["exp"] = now.Add(-2 * time.Minute).Unix() })),
			"unknown-user": "Bearer " + sign(claims(func(c jwt.MapClaims) { c["sub"] = "00000000-0000-4000-8000-000000000000" })),
			"oversized":    "Bearer " + strings.Repeat("a", 5000),
		}
		for name, header := range cases {
			t.Run(name, func(t *testing.T) {
				var hs []testkit.Header
				if header != "" {
					hs = append(hs, testkit.Header{Key: "Authorization", Value: header})
				}
				res := app.Do(http.MethodGet, "/api/users/me", nil, hs...)
				if res.Status != http.StatusUnauthorized {
					t.Fatalf("status = %d: %s", res.Status, res.Body)
				}
				res.Problem(t)
				h := res.Header.Get("WWW-Authenticate")
				if !strings.HasPrefix(h, "Bearer") {
					t.Fatalf("WWW-Authenticate = %q", h)
				}
				if (name == "missing" || name == "not-bearer") == strings.Contains(h, "invalid_token") {
					t.Fatalf("challenge %q: error code only when a token was sent (RFC 6750 §3.1)", h)
				}
			})
		}
	})
}

func parseKey(t *testing.T, p string) *rsa.PrivateKey {
	t.Helper()
	block, _ := pem.Decode([]byte(p))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}

func headerOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// accessTokenTTL is ACCESS_TOKEN_TTL's default, which the tests run with.
const accessTokenTTL = 15 * time.Minute
