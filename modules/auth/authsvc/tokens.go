package authsvc

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"errors"
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

// accessClaims are the claims of an access token (RFC 9068 §2.2), plus the
// session id that lets logout and revocation take effect at once.
type accessClaims struct {
	jwt.RegisteredClaims
	ClientID  string `json:"client_id"`
	SessionID string `json:"sid"`
	// auth_time and amr (RFC 9068 §2.2.1, from OpenID Connect; values of
	// RFC 8176): when and how the session's user signed in. Refreshing
	// keeps them, so step-up operations can ask for a recent sign-in.
	AuthTime *jwt.NumericDate `json:"auth_time,omitempty"`
	AMR      []string         `json:"amr,omitempty"`
}

// KeySet gives the signing key and the verification keys by kid. KeyRing
// implements it over the database; StaticKeys over one fixed key.
type KeySet interface {
	SigningKey(ctx context.Context) (*SigningKey, error)
	VerificationKey(ctx context.Context, kid string) (*rsa.PublicKey, bool)
}

// SessionChecker confirms that a token's session is still live.
type SessionChecker interface {
	Session(ctx context.Context, id uuid.UUID) (Session, error)
}

// Tokens issues and verifies access tokens.
type Tokens struct {
	cfg      TokenConfig
	keys     KeySet
	sessions SessionChecker
	parser   *jwt.Parser
	now      func() time.Time
	cache    *verified
}

// NewTokens returns the token issuer/verifier.
func NewTokens(cfg TokenConfig, keys KeySet, sessions SessionChecker) *Tokens {
	return &Tokens{
		cfg:      cfg,
		keys:     keys,
		sessions: sessions,
		cache:    newVerified(verifiedCap),
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{Algorithm}),
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(cfg.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(leeway),
		),
		now: time.Now,
	}
}

// Issued is a signed access token.
type Issued struct {
	Token     string
	ExpiresIn time.Duration
}

// Issue signs an access token for an account in a session whose user
// signed in with a password at authTime.
func (t *Tokens) Issue(ctx context.Context, a authn.Account, clientID string, sessionID uuid.UUID, authTime time.Time) (Issued, error) {
	return t.IssueFor(ctx, a, clientID, sessionID, authTime, amrPassword)
}

// IssueFor is Issue for a sign-in by the methods amr (RFC 8176 values).
func (t *Tokens) IssueFor(ctx context.Context, a authn.Account, clientID string, sessionID uuid.UUID, authTime time.Time, amr []string) (Issued, error) {
	key, err := t.keys.SigningKey(ctx)
	if err != nil {
		return Issued{}, fmt.Errorf("sign access token: %w", err)
	}
	now := t.now().UTC().Truncate(time.Second)
	claims := accessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    t.cfg.Issuer,
			Subject:   a.UserID.String(),
			Audience:  jwt.ClaimStrings{t.cfg.Audience},
			ExpiresAt: jwt.NewNumericDate(now.Add(t.cfg.TTL)),
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ID:        randomID(),
		},
		ClientID:  clientID,
		SessionID: sessionID.String(),
		AuthTime:  jwt.NewNumericDate(authTime.UTC().Truncate(time.Second)),
		AMR:       amr,
	}
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(Algorithm), claims)
	tok.Header["typ"] = tokenType
	tok.Header["kid"] = key.KID
	s, err := tok.SignedString(key.Private)
	if err != nil {
		return Issued{}, fmt.Errorf("sign access token: %w", err)
	}
	return Issued{Token: s, ExpiresIn: t.cfg.TTL}, nil
}

// Verify checks signature, type and claims only: no database. Keys come
// only from our own key set by kid; jku, x5u and jwk headers are never
// followed.
func (t *Tokens) Verify(ctx context.Context, raw string) (authn.Claims, error) {
	// A token already verified is answered from memory while its key is
	// still in the set (a withdrawn key ends its tokens at once).
	if v, kid, ok := t.cache.get(raw); ok {
		if _, known := t.keys.VerificationKey(ctx, kid); known {
			return v, nil
		}
	}
	var claims accessClaims
	var kid string
	_, err := t.parser.ParseWithClaims(raw, &claims, func(tok *jwt.Token) (any, error) {
		typ, _ := tok.Header["typ"].(string)
		if !strings.EqualFold(typ, tokenType) && !strings.EqualFold(typ, "application/"+tokenType) {
			return nil, fmt.Errorf("unexpected token type %q", typ)
		}
		kid, _ = tok.Header["kid"].(string)
		key, ok := t.keys.VerificationKey(ctx, kid)
		if !ok {
			return nil, errors.New("unknown key id")
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
	sid, err := uuid.Parse(claims.SessionID)
	if err != nil {
		return authn.Claims{}, authn.ErrInvalidToken
	}
	v := authn.Claims{Subject: sub, SessionID: sid, ClientID: claims.ClientID, TokenID: claims.ID, AMR: claims.AMR}
	if claims.AuthTime != nil {
		v.AuthTime = claims.AuthTime.UTC()
	}
	t.cache.put(raw, v, kid, claims.ExpiresAt.Time) // ExpiresAt is required by the parser
	return v, nil
}

// ForgetKey drops the remembered tokens signed by kid, a removed key.
// Each remembered token's key is checked against the key set anyway; this
// frees their memory at once.
func (t *Tokens) ForgetKey(kid string) { t.cache.forgetKey(kid) }

// VerifyAccessToken implements authn.TokenVerifier: a valid token whose
// session is still live (one primary-key lookup), so logout, revocation and
// credential changes cut access tokens off at once rather than at expiry.
func (t *Tokens) VerifyAccessToken(ctx context.Context, raw string) (authn.Claims, error) {
	v, err := t.Verify(ctx, raw)
	if err != nil {
		return authn.Claims{}, err
	}
	sess, err := t.sessions.Session(ctx, v.SessionID)
	if errors.Is(err, ErrNoSession) {
		return authn.Claims{}, authn.ErrInvalidToken
	}
	if err != nil {
		return authn.Claims{}, fmt.Errorf("check session: %w", err)
	}
	if sess.RevokedAt != nil || sess.UserID != v.Subject || !t.now().Before(sess.ExpiresAt) {
		return authn.Claims{}, authn.ErrInvalidToken
	}
	return v, nil
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
