package authsvc

import (
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
	tokens := NewTokens(TokenConfig{Issuer: "iss", Audience: "aud", TTL: time.Hour}, testKey(f))
	valid, err := tokens.Issue(authn.Principal{UserID: uuid.New()}, "web")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid.Token)
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := tokens.VerifyAccessToken(t.Context(), raw)
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
