package authsvc

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/acme/monolith/platform/authn"
)

// Algorithm is the one signing algorithm accepted; pinning it defeats
// alg-confusion attacks (`none`, HS256 keyed with the public key).
const Algorithm = "RS256"

// tokenType is the RFC 9068 JWT access-token type.
const tokenType = "at+jwt"

// leeway tolerates clock skew between replicas.
const leeway = 30 * time.Second

// TokenConfig configures issuing and verification.
type TokenConfig struct {
	Issuer   string
	Audience string
	TTL      time.Duration
}

// accessClaims are the claims of an access token (RFC 9068 §2.2).
type accessClaims struct {
	jwt.RegisteredClaims
	ClientID string `json:"client_id"`
}

// Tokens issues and verifies access tokens.
type Tokens struct {
	cfg    TokenConfig
	key    *SigningKey
	keys   map[string]*rsa.PublicKey
	parser *jwt.Parser
	now    func() time.Time
	cache  *verified
}

// NewTokens returns the token issuer/verifier for one signing key.
func NewTokens(cfg TokenConfig, key *SigningKey) *Tokens {
	return &Tokens{
		cfg:  cfg,
		key:  key,
		keys: map[string]*rsa.PublicKey{key.KID: &key.Private.PublicKey},
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{Algorithm}),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(cfg.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(leeway),
		),
		now:   time.Now,
		cache: newVerified(verifiedCap),
	}
}

// Issued is a signed access token.
type Issued struct {
	Token     string
	ExpiresIn time.Duration
}

// Issue signs an access token for a principal.
func (t *Tokens) Issue(p authn.Principal, clientID string) (Issued, error) {
	now := t.now().UTC().Truncate(time.Second)
	claims := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.cfg.Issuer,
			Subject:   p.UserID.String(),
			Audience:  jwt.ClaimStrings{t.cfg.Audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(t.cfg.TTL)),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ID:        randomID(),
		},
		ClientID: clientID,
	}
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(Algorithm), claims)
	tok.Header["typ"] = tokenType
	tok.Header["kid"] = t.key.KID
	s, err := tok.SignedString(t.key.Private)
	if err != nil {
		return Issued{}, fmt.Errorf("sign access token: %w", err)
	}
	return Issued{Token: s, ExpiresIn: t.cfg.TTL}, nil
}

// VerifyAccessToken implements authn.TokenVerifier. Keys come only from our
// own key set by kid; jku, x5u and jwk headers are never followed.
func (t *Tokens) VerifyAccessToken(_ context.Context, raw string) (authn.Claims, error) {
	if c, ok := t.cache.get(raw); ok {
		return c, nil
	}
	var claims accessClaims
	_, err := t.parser.ParseWithClaims(raw, &claims, func(tok *jwt.Token) (any, error) {
		typ, _ := tok.Header["typ"].(string)
		if !strings.EqualFold(typ, tokenType) && !strings.EqualFold(typ, "application/"+tokenType) {
			return nil, fmt.Errorf("unexpected token type %q", typ)
		}
		kid, _ := tok.Header["kid"].(string)
		key, ok := t.keys[kid]
		if !ok {
			return nil, fmt.Errorf("unknown key id")
		}
		return key, nil
	})
	if err != nil {
		return authn.Claims{}, authn.ErrInvalidToken
	}
	sub, err := uuid.Parse(claims.Subject)
	if err != nil {
		return authn.Claims{}, authn.ErrInvalidToken
	}
	c := authn.Claims{Subject: sub, TokenID: claims.ID}
	t.cache.put(raw, c, claims.ExpiresAt.Time) // ExpiresAt is required by the parser
	return c, nil
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
