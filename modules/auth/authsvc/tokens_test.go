package authsvc

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/acme/monolith/platform/authn"
)

func TestDevelopmentKeyIsGeneratedOnceAndPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "var", "key.pem")
	k1, err := LoadSigningKey(KeySource{File: path, Generate: true})
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v (%v)", st.Mode(), err)
	}
	k2, err := LoadSigningKey(KeySource{File: path, Generate: true})
	if err != nil || k2.KID != k1.KID {
		t.Fatalf("second load gave another key: %v", err)
	}
	if _, err := LoadSigningKey(KeySource{File: filepath.Join(t.TempDir(), "missing.pem")}); err == nil {
		t.Fatal("a missing key file was accepted without Generate (production)")
	}
}

func TestWeakOrForeignKeysAreRefused(t *testing.T) {
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	der, _ := x509.MarshalPKCS8PrivateKey(small)
	if _, err := LoadSigningKey(KeySource{PEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}); err == nil {
		t.Fatal("RSA-1024 accepted")
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ = x509.MarshalPKCS8PrivateKey(ec)
	if _, err := LoadSigningKey(KeySource{PEM: string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}); err == nil {
		t.Fatal("an EC key was accepted for RS256")
	}
	if _, err := LoadSigningKey(KeySource{PEM: "changethis"}); err == nil {
		t.Fatal("a non-PEM value was accepted")
	}
}

func TestIssueThenVerify(t *testing.T) {
	key := testKey(t)
	tokens := NewTokens(TokenConfig{Issuer: "iss", Audience: "aud", TTL: time.Minute}, StaticKeys{key}, nil)
	id := uuid.New()
	signedIn := time.Now().Add(-time.Hour).UTC()
	issued, err := tokens.Issue(t.Context(), authn.Account{UserID: id}, "web", uuid.New(), signedIn)
	if err != nil {
		t.Fatal(err)
	}
	claims, err := tokens.Verify(t.Context(), issued.Token)
	if err != nil || claims.Subject != id || claims.TokenID == "" || claims.SessionID == uuid.Nil {
		t.Fatalf("verify: %+v %v", claims, err)
	}
	// auth_time (the sign-in, to the second) and amr travel in the token.
	if !claims.AuthTime.Equal(signedIn.Truncate(time.Second)) || !slices.Equal(claims.AMR, []string{"pwd"}) {
		t.Fatalf("auth_time %v amr %v, want %v [pwd]", claims.AuthTime, claims.AMR, signedIn)
	}
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(issued.Token, ".")[1])
	if !strings.Contains(string(payload), `"auth_time":`+strconv.FormatInt(signedIn.Unix(), 10)) || !strings.Contains(string(payload), `"amr":["pwd"]`) {
		t.Fatalf("payload: %s", payload)
	}
	// Another issuer's verifier with the same key refuses it.
	other := NewTokens(TokenConfig{Issuer: "other", Audience: "aud", TTL: time.Minute}, StaticKeys{key}, nil)
	if _, err := other.Verify(t.Context(), issued.Token); err == nil {
		t.Fatal("token accepted by a verifier with another issuer")
	}
	// Expiry is enforced (beyond the clock-skew leeway).
	tokens.now = func() time.Time { return time.Now().Add(-time.Hour) }
	old, _ := tokens.Issue(t.Context(), authn.Account{UserID: id}, "web", uuid.New(), time.Now())
	if _, err := tokens.Verify(t.Context(), old.Token); err == nil {
		t.Fatal("expired token accepted")
	}
}

var keyCache *SigningKey

func testKey(tb testing.TB) *SigningKey {
	tb.Helper()
	if keyCache == nil {
		k, err := rsa.GenerateKey(rand.Reader, rsaBits)
		if err != nil {
			tb.Fatal(err)
		}
		keyCache = &SigningKey{Private: k, KID: thumbprint(&k.PublicKey)}
	}
	return keyCache
}

// BenchmarkVerify measures what every authenticated request pays for the
// signature check, for the algorithms considered. RS256 is the cheapest
// asymmetric one here (docs/architecture.md records the numbers).
func BenchmarkVerify(b *testing.B) {
	rsaKey := testKey(b).Private
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	algs := []struct {
		method jwt.SigningMethod
		priv   any
		pub    any
	}{
		{jwt.SigningMethodRS256, rsaKey, &rsaKey.PublicKey},
		{jwt.SigningMethodPS256, rsaKey, &rsaKey.PublicKey},
		{jwt.SigningMethodES256, ecKey, &ecKey.PublicKey},
		{jwt.SigningMethodEdDSA, edKey, edKey.Public()},
	}
	for _, a := range algs {
		b.Run(a.method.Alg(), func(b *testing.B) {
			tok, err := jwt.NewWithClaims(a.method, jwt.MapClaims{"sub": "x", "exp": time.Now().Add(time.Hour).Unix()}).SignedString(a.priv)
			if err != nil {
				b.Fatal(err)
			}
			p := jwt.NewParser(jwt.WithValidMethods([]string{a.method.Alg()}))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := p.Parse(tok, func(*jwt.Token) (any, error) { return a.pub, nil }); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("RS256-service", func(b *testing.B) {
		tokens := NewTokens(TokenConfig{Issuer: "iss", Audience: "aud", TTL: time.Hour}, StaticKeys{testKey(b)}, nil)
		issued, _ := tokens.Issue(b.Context(), authn.Account{UserID: uuid.New()}, "web", uuid.New(), time.Now())
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tokens.Verify(b.Context(), issued.Token); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestIssuedClaims (RFC 9068): an access token is an RS256 JWT of type
// at+jwt naming its key, whose claims carry the issuer, the audience, the
// subject, the client, the session and a unique id, valid from its issue
// for the configured lifetime.
func TestIssuedClaims(t *testing.T) {
	key := testKey(t)
	tokens := NewTokens(TokenConfig{Issuer: "iss", Audience: "aud", TTL: 7 * time.Minute}, StaticKeys{key}, nil)
	user, sid := uuid.New(), uuid.New()
	a, err := tokens.Issue(t.Context(), authn.Account{UserID: user}, "web", sid, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := tokens.Issue(t.Context(), authn.Account{UserID: user}, "web", sid, time.Now())
	var c accessClaims
	tok, _, err := jwt.NewParser().ParseUnverified(a.Token, &c)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Method.Alg() != Algorithm || tok.Header["typ"] != tokenType || tok.Header["kid"] != key.KID {
		t.Fatalf("header %v", tok.Header)
	}
	if c.Issuer != "iss" || len(c.Audience) != 1 || c.Audience[0] != "aud" || c.Subject != user.String() ||
		c.ClientID != "web" || c.SessionID != sid.String() || c.ID == "" {
		t.Fatalf("claims %+v", c)
	}
	if c.ExpiresAt.Sub(c.IssuedAt.Time) != 7*time.Minute || !c.NotBefore.Equal(c.IssuedAt.Time) || a.ExpiresIn != 7*time.Minute {
		t.Fatalf("lifetime: iat %v nbf %v exp %v, expires_in %v", c.IssuedAt, c.NotBefore, c.ExpiresAt, a.ExpiresIn)
	}
	var d accessClaims
	_, _, _ = jwt.NewParser().ParseUnverified(b.Token, &d)
	if d.ID == c.ID {
		t.Fatal("two tokens share an id")
	}
}

// TestVerifyRefusesForgedTokens: only a token of our issuer and audience,
// of type at+jwt, signed RS256 by a key of the set and within its
// lifetime (give or take the clock-skew leeway) verifies. Each case
// changes one thing of a token the control shows is accepted.
func TestVerifyRefusesForgedTokens(t *testing.T) {
	key := testKey(t)
	tokens := NewTokens(TokenConfig{Issuer: "iss", Audience: "aud", TTL: time.Minute}, StaticKeys{key}, nil)
	now := time.Now()
	claims := func(edit func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{
			"iss": "iss", "aud": "aud", "sub": uuid.NewString(), "sid": uuid.NewString(), "client_id": "web",
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(), "jti": randomID(),
		}
		if edit != nil {
			edit(c)
		}
		return c
	}
	sign := func(m jwt.SigningMethod, signer any, c jwt.MapClaims, header map[string]any) string {
		tok := jwt.NewWithClaims(m, c)
		tok.Header["kid"], tok.Header["typ"] = key.KID, tokenType
		for k, v := range header {
			if v == nil {
				delete(tok.Header, k)
			} else {
				tok.Header[k] = v
			}
		}
		s, err := tok.SignedString(signer)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	rs := func(edit func(jwt.MapClaims), header map[string]any) string {
		return sign(jwt.SigningMethodRS256, key.Private, claims(edit), header)
	}
	if _, err := tokens.Verify(t.Context(), rs(nil, nil)); err != nil {
		t.Fatalf("control token refused: %v", err)
	}
	if _, err := tokens.Verify(t.Context(), rs(nil, map[string]any{"typ": "application/at+jwt"})); err != nil {
		t.Fatalf("the media-type spelling of at+jwt refused: %v", err)
	}
	if _, err := tokens.Verify(t.Context(), rs(func(c jwt.MapClaims) { c["exp"] = now.Add(-leeway / 2).Unix() }, nil)); err != nil {
		t.Fatalf("expired within the leeway refused: %v", err)
	}
	other, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	valid := rs(nil, nil)
	parts := strings.Split(valid, ".")
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"at+jwt","kid":"`+key.KID+`"}`)) + "." + parts[1] + "."
	hmacWithPublicKey := sign(jwt.SigningMethodHS256, x509.MarshalPKCS1PublicKey(&key.Private.PublicKey), claims(nil), nil)

	for name, tok := range map[string]string{
		"alg none":                        none,
		"HS256 keyed with the public key": hmacWithPublicKey,
		"PS256":                           sign(jwt.SigningMethodPS256, key.Private, claims(nil), nil),
		"another key":                     sign(jwt.SigningMethodRS256, other.Private, claims(nil), nil),
		"unknown kid":                     rs(nil, map[string]any{"kid": "someone-elses"}),
		"no typ":                          rs(nil, map[string]any{"typ": nil}),
		"typ JWT":                         rs(nil, map[string]any{"typ": "JWT"}),
		"stripped signature":              parts[0] + "." + parts[1] + ".",
		"expired past the leeway":         rs(func(c jwt.MapClaims) { c["exp"] = now.Add(-leeway - time.Second).Unix() }, nil),
		"no exp":                          rs(func(c jwt.MapClaims) { delete(c, "exp") }, nil),
		"not yet valid":                   rs(func(c jwt.MapClaims) { c["nbf"] = now.Add(2 * leeway).Unix() }, nil),
		"issued in the future":            rs(func(c jwt.MapClaims) { c["iat"] = now.Add(2 * leeway).Unix() }, nil),
		"another issuer":                  rs(func(c jwt.MapClaims) { c["iss"] = "someone-else" }, nil),
		"another audience":                rs(func(c jwt.MapClaims) { c["aud"] = "other-api" }, nil),
		"subject not a uuid":              rs(func(c jwt.MapClaims) { c["sub"] = "root" }, nil),
		"no session":                      rs(func(c jwt.MapClaims) { delete(c, "sid") }, nil),
	} {
		if _, err := tokens.Verify(t.Context(), tok); !errors.Is(err, authn.ErrInvalidToken) {
			t.Errorf("%s: err = %v, want invalid_token", name, err)
		}
	}
}
