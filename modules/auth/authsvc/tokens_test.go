package authsvc

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
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
	issued, err := tokens.Issue(t.Context(), authn.Account{UserID: id}, "web", uuid.New())
	if err != nil {
		t.Fatal(err)
	}
	claims, err := tokens.Verify(t.Context(), issued.Token)
	if err != nil || claims.Subject != id || claims.TokenID == "" || claims.SessionID == uuid.Nil {
		t.Fatalf("verify: %+v %v", claims, err)
	}
	// Another issuer's verifier with the same key refuses it.
	other := NewTokens(TokenConfig{Issuer: "other", Audience: "aud", TTL: time.Minute}, StaticKeys{key}, nil)
	if _, err := other.Verify(t.Context(), issued.Token); err == nil {
		t.Fatal("token accepted by a verifier with another issuer")
	}
	// Expiry is enforced (beyond the clock-skew leeway).
	tokens.now = func() time.Time { return time.Now().Add(-time.Hour) }
	old, _ := tokens.Issue(t.Context(), authn.Account{UserID: id}, "web", uuid.New())
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
		issued, _ := tokens.Issue(b.Context(), authn.Account{UserID: uuid.New()}, "web", uuid.New())
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tokens.Verify(b.Context(), issued.Token); err != nil {
				b.Fatal(err)
			}
		}
	})
}
