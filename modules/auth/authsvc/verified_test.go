package authsvc

import (
	"context"
	"crypto/rsa"
	"fmt"
	"testing"
	"time"
	"unsafe"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/acme/monolith/platform/authn"
)

// TestVerifiedTokensSkipTheParser: a token already verified is answered
// from the cache (here the parser is replaced by one that refuses
// everything), while any other token text still goes through the parser,
// and a cached token whose key left the set is refused.
func TestVerifiedTokensSkipTheParser(t *testing.T) {
	keys := &swappableKeys{StaticKeys: StaticKeys{testKey(t)}}
	tokens := NewTokens(TokenConfig{Issuer: "iss", Audience: "aud", TTL: time.Minute}, keys, nil)
	id, sid := uuid.New(), uuid.New()
	first, _ := tokens.Issue(t.Context(), authn.Account{UserID: id}, "web", sid, time.Now())
	if _, err := tokens.Verify(t.Context(), first.Token); err != nil {
		t.Fatal(err)
	}
	tokens.parser = jwt.NewParser(jwt.WithValidMethods([]string{"none-accepted"}))
	if v, err := tokens.Verify(t.Context(), first.Token); err != nil || v.Subject != id || v.SessionID != sid {
		t.Fatalf("cached token: %+v %v", v, err)
	}
	// Control: an unseen token, and the cached one with a byte changed,
	// both reach the (now refusing) parser.
	second, _ := tokens.Issue(t.Context(), authn.Account{UserID: id}, "web", sid, time.Now())
	tampered := first.Token[:len(first.Token)-2] + "AA"
	for _, tok := range []string{second.Token, tampered} {
		if _, err := tokens.Verify(t.Context(), tok); err == nil {
			t.Fatal("uncached token accepted without verification")
		}
	}
	// Withdrawing the key ends the cached token at once.
	keys.withdrawn = true
	if _, err := tokens.Verify(t.Context(), first.Token); err == nil {
		t.Fatal("a cached token outlived its signing key")
	}
}

// swappableKeys is a key set whose one key can be withdrawn.
type swappableKeys struct {
	StaticKeys
	withdrawn bool
}

func (s *swappableKeys) VerificationKey(ctx context.Context, kid string) (*rsa.PublicKey, bool) {
	if s.withdrawn {
		return nil, false
	}
	return s.StaticKeys.VerificationKey(ctx, kid)
}

func TestVerifiedExpiresWithTheToken(t *testing.T) {
	v := newVerified(8)
	exp := time.Now().Add(time.Minute)
	v.put("tok", authn.Claims{TokenID: "a"}, "kid", exp)
	if _, _, ok := v.get("tok"); !ok {
		t.Fatal("fresh entry missed")
	}
	v.now = func() time.Time { return exp.Add(leeway - time.Second) }
	if _, _, ok := v.get("tok"); !ok {
		t.Fatal("entry within the leeway missed")
	}
	v.now = func() time.Time { return exp.Add(leeway) }
	if _, _, ok := v.get("tok"); ok {
		t.Fatal("expired token served from the cache")
	}
}

func TestVerifiedIsBounded(t *testing.T) {
	v := newVerified(64)
	exp := time.Now().Add(time.Minute)
	for i := range 1000 {
		v.put(fmt.Sprint("tok-", i), authn.Claims{}, "kid", exp)
		if v.len() > 64 {
			t.Fatalf("cache grew to %d entries", v.len())
		}
	}
	if _, _, ok := v.get("tok-999"); !ok {
		t.Fatal("the newest entry was evicted")
	}
}

// TestVerifiedCopiesItsKey: fiber hands out header strings backed by a
// buffer it reuses; the cache must not keep that memory as its key.
func TestVerifiedCopiesItsKey(t *testing.T) {
	v := newVerified(8)
	buf := []byte("token-text")
	v.put(unsafe.String(&buf[0], len(buf)), authn.Claims{TokenID: "x"}, "kid", time.Now().Add(time.Minute))
	copy(buf, "overwrite!")
	if c, _, ok := v.get("token-text"); !ok || c.TokenID != "x" {
		t.Fatal("the key changed with the request buffer")
	}
	if _, _, ok := v.get("overwrite!"); ok {
		t.Fatal("the reused buffer's new text matches")
	}
}
