package authsvc

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/acme/monolith/platform/authn"
)

// FuzzVerifyAccessToken: verification never panics, fails only with
// authn.ErrInvalidToken, and accepts nothing but the one token this
// verifier signed (the fuzzer cannot sign). Seeds in
// testdata/fuzz/FuzzVerifyAccessToken: alg none, HS256 keyed with the
// public key, wrong typ, unknown kid, jku/jwk headers, malformed parts.
func FuzzVerifyAccessToken(f *testing.F) {
	tokens := NewTokens(TokenConfig{Issuer: "iss", Audience: "aud", TTL: time.Hour}, StaticKeys{testKey(f)}, nil)
	valid, err := tokens.Issue(context.Background(), authn.Account{UserID: uuid.New()}, "web", uuid.New(), time.Now())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid.Token)
	f.Fuzz(func(t *testing.T, raw string) {
		// Verify is the cryptographic check; the session lookup after it
		// needs a database and has its own tests.
		c, err := tokens.Verify(t.Context(), raw)
		if err != nil {
			if !errors.Is(err, authn.ErrInvalidToken) {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if raw != valid.Token || c.Subject == uuid.Nil {
			t.Fatalf("accepted a token it did not sign: %q", raw)
		}
	})
}
