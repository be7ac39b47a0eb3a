package authattack

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/buildinfo"
	"github.com/acme/monolith/platform/testkit"
)

// session is a signed-in user with both tokens.
type session struct {
	apptest.User
	Access  string
	Refresh string
	SID     string
}

type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error"`
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

func login(t *testing.T, app *apptest.App, email, pw string) (*testkit.Response, tokenResponse) {
	t.Helper()
	res := app.Do(http.MethodPost, "/api/auth/login", form("grant_type", "password", "username", email, "password", pw))
	var tr tokenResponse
	if len(res.Body) > 0 {
		res.JSON(t, &tr)
	}
	return res, tr
}

func refresh(t *testing.T, app *apptest.App, rt string) (*testkit.Response, tokenResponse) {
	t.Helper()
	res := app.Do(http.MethodPost, "/api/auth/login", form("grant_type", "refresh_token", "refresh_token", rt))
	var tr tokenResponse
	if len(res.Body) > 0 {
		res.JSON(t, &tr)
	}
	return res, tr
}

func newSession(t *testing.T, app *apptest.App) session {
	t.Helper()
	u := app.NewUser(false)
	res, tr := login(t, app, u.Email, u.Password)
	if res.Status != http.StatusOK || tr.RefreshToken == "" {
		t.Fatalf("login: %d %s", res.Status, res.Body)
	}
	return session{User: u, Access: tr.AccessToken, Refresh: tr.RefreshToken, SID: claimsOf(t, tr.AccessToken)["sid"].(string)}
}

// me is the protected probe every token attack targets.
func me(app *apptest.App, token string) int {
	return app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(token)).Status
}

func claimsOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	return partOf(t, tok, 1)
}

func headerOf(t *testing.T, tok string) map[string]any {
	t.Helper()
	return partOf(t, tok, 0)
}

func partOf(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func parseKey(t *testing.T, p string) *rsa.PrivateKey {
	t.Helper()
	block, _ := pem.Decode([]byte(p))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(*rsa.PrivateKey)
}

// forger signs tokens the way the server does, with the server's own key,
// so that each attack changes exactly one thing from a token the control
// case proves is accepted.
type forger struct {
	t   *testing.T
	key *rsa.PrivateKey
	kid string
	app *apptest.App
	s   session
}

func (f forger) claims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"iss": buildinfo.Service, "aud": buildinfo.Service + "-api", "sub": f.s.ID.String(),
		"sid": f.s.SID, "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": "forged",
		"client_id": "default",
	}
}

func (f forger) sign(method jwt.SigningMethod, key any, header map[string]any, edit func(jwt.MapClaims)) string {
	c := f.claims()
	if edit != nil {
		edit(c)
	}
	tok := jwt.NewWithClaims(method, c)
	tok.Header["kid"], tok.Header["typ"] = f.kid, "at+jwt"
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(key)
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

func (f forger) rs256(edit func(jwt.MapClaims)) string {
	return f.sign(jwt.SigningMethodRS256, f.key, nil, edit)
}
