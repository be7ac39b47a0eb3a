// Package authn resolves the current user of a request. Any module protects
// an operation with Resolver.Protect or Resolver.ProtectSuperuser and reads
// the caller in its handler with CurrentUser.
//
// It also declares the contracts between the two modules that take part in
// authentication, so neither imports the other: the auth module provides
// TokenVerifier, SessionRevoker and ResetRevoker; the users module provides
// Directory and Recovery.
package authn

import (
	"context"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/acme/monolith/platform/fault"
)

// SecurityScheme is the OpenAPI security scheme protected operations use.
const SecurityScheme = "oauth2"

// maxTokenLen bounds the bearer value: a real access token is well under
// 2 KiB; anything larger is refused before any parsing.
const maxTokenLen = 4096

// Principal is the authenticated caller.
type Principal struct {
	UserID    uuid.UUID
	Email     string
	Superuser bool
	// SessionID is the sign-in the request's token belongs to (set by the
	// resolver; zero outside a request).
	SessionID uuid.UUID
}

// Claims is what a verified access token asserts.
type Claims struct {
	Subject   uuid.UUID
	TokenID   string
	SessionID uuid.UUID
}

// TokenVerifier checks an access token's signature and claims.
type TokenVerifier interface {
	VerifyAccessToken(ctx context.Context, token string) (Claims, error)
}

// Directory is the account store authentication runs against.
type Directory interface {
	// Authenticate checks a password; unknown, wrong and inactive all
	// return ErrInvalidCredentials.
	Authenticate(ctx context.Context, email, password string) (Principal, error)
	// Principal returns an active account, or ErrInvalidToken-compatible
	// errors (not found, inactive) that end the request with 401.
	Principal(ctx context.Context, id uuid.UUID) (Principal, error)
}

// Recovery is the part of the account store that password reset needs. The
// users module provides it; the auth module consumes it.
type Recovery interface {
	// PrincipalByEmail returns an active account, or a NotFound /
	// Unauthenticated fault.
	PrincipalByEmail(ctx context.Context, email string) (Principal, error)
	// ResetPassword sets a new password (policy-checked) without the old
	// one, and ends every session of the account.
	ResetPassword(ctx context.Context, id uuid.UUID, password string) error
}

// SessionRevoker ends every session (refresh tokens and the access tokens
// issued from them) of a user. The auth module provides it; the users module
// calls it when a password changes or an account is deactivated or deleted.
type SessionRevoker interface {
	RevokeUserSessions(ctx context.Context, userID uuid.UUID) error
}

// ResetRevoker ends a user's outstanding password-reset tokens. The auth
// module provides it; the users module calls it when the password or the
// email changes (a token mailed earlier must not outlive the credential or
// the address it was sent for) and when an account is deactivated or
// deleted.
type ResetRevoker interface {
	RevokePasswordResets(ctx context.Context, userID uuid.UUID) error
}

// Errors a resolver reports.
var (
	ErrInvalidCredentials = fault.New(fault.Unauthenticated, "invalid_credentials", "Incorrect email or password.")
	ErrMissingToken       = fault.New(fault.Unauthenticated, "missing_token", "This operation requires a bearer token.")
	ErrInvalidToken       = fault.New(fault.Unauthenticated, "invalid_token", "The access token is invalid or expired.")
	ErrInactiveUser       = fault.New(fault.Unauthenticated, "invalid_token", "The access token is invalid or expired.")
	ErrSuperuserRequired  = fault.New(fault.Forbidden, "superuser_required", "This operation requires a superuser.")
)

// Resolver turns an Authorization header into a Principal.
type Resolver struct {
	verifier TokenVerifier
	dir      Directory
}

// NewResolver returns a resolver.
func NewResolver(v TokenVerifier, d Directory) *Resolver {
	return &Resolver{verifier: v, dir: d}
}

// Resolve authenticates an Authorization header value: a valid, unexpired
// token whose user still exists and is active.
func (r *Resolver) Resolve(ctx context.Context, authorization string) (Principal, error) {
	token, err := bearerToken(authorization)
	if err != nil {
		return Principal{}, err
	}
	claims, err := r.verifier.VerifyAccessToken(ctx, token)
	if err != nil {
		return Principal{}, err
	}
	p, err := r.dir.Principal(ctx, claims.Subject)
	if err != nil {
		if fe, ok := fault.As(err); ok && (fe.Kind == fault.NotFound || fe.Kind == fault.Unauthenticated) {
			return Principal{}, ErrInvalidToken
		}
		return Principal{}, err
	}
	p.SessionID = claims.SessionID
	return p, nil
}

// bearerToken extracts the token (RFC 6750 §2.1; the scheme is
// case-insensitive per RFC 9110 §11.1).
func bearerToken(h string) (string, error) {
	if h == "" {
		return "", ErrMissingToken
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", ErrMissingToken
	}
	token = strings.TrimSpace(token)
	if token == "" || len(token) > maxTokenLen || strings.ContainsAny(token, " \t") {
		return "", ErrInvalidToken
	}
	return token, nil
}

type principalKey struct{}

// request is what a protected request carries: the caller once resolved,
// and the account record the Directory loaded to resolve it.
type request struct {
	p        Principal
	resolved bool
	account  any
}

// CurrentUser returns the caller of a protected operation. In an operation
// that was not protected it reports ErrMissingToken, so forgetting Protect
// fails closed.
func CurrentUser(ctx context.Context) (Principal, error) {
	r, ok := ctx.Value(principalKey{}).(*request)
	if !ok || !r.resolved {
		return Principal{}, ErrMissingToken
	}
	return r.p, nil
}

// WithPrincipal stores the caller; tests of handlers and CLI paths use it.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, &request{p: p, resolved: true})
}

// RememberAccount lets a Directory keep the account record it loaded
// while resolving this request's caller, so that a handler needing the
// same record (GET /api/users/me) does not query it a second time. It does
// nothing outside a protected request. The record is as of the start of
// the request: use it only for reads that need nothing fresher.
func RememberAccount(ctx context.Context, account any) {
	if r, ok := ctx.Value(principalKey{}).(*request); ok && !r.resolved {
		r.account = account
	}
}

// RememberedAccount returns what the Directory remembered for this
// request's caller, or nil.
func RememberedAccount(ctx context.Context) any {
	if r, ok := ctx.Value(principalKey{}).(*request); ok {
		return r.account
	}
	return nil
}

// Public marks op as open to anyone: the document says so with an empty
// security requirement. The application's contract test fails on an
// operation that is neither protected nor marked public, so none is
// public by omission.
func Public(op huma.Operation) huma.Operation {
	op.Security = []map[string][]string{}
	return op
}

// Protect requires a signed-in, active user for op.
func (r *Resolver) Protect(api huma.API, op huma.Operation) huma.Operation {
	return r.protect(api, op, false)
}

// ProtectSuperuser requires a signed-in, active superuser for op.
func (r *Resolver) ProtectSuperuser(api huma.API, op huma.Operation) huma.Operation {
	return r.protect(api, op, true)
}

func (r *Resolver) protect(api huma.API, op huma.Operation, superuser bool) huma.Operation {
	op.Security = append(op.Security, map[string][]string{SecurityScheme: {}})
	for _, s := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		if !superuser && s == http.StatusForbidden {
			continue
		}
		op.Errors = append(op.Errors, s)
	}
	op.Middlewares = append(op.Middlewares, func(ctx huma.Context, next func(huma.Context)) {
		// One context value per request holds both the caller and the
		// record the Directory loaded; it is marked resolved only on success.
		req := &request{}
		p, err := r.Resolve(context.WithValue(ctx.Context(), principalKey{}, req), ctx.Header("Authorization"))
		if err == nil && superuser && !p.Superuser {
			ctx.SetHeader("WWW-Authenticate", `Bearer error="insufficient_scope", error_description="superuser required"`)
			_ = huma.WriteErr(api, ctx, http.StatusForbidden, "", ErrSuperuserRequired)
			return
		}
		if err != nil {
			status := http.StatusUnauthorized
			if fe, ok := fault.As(err); ok && fe.Kind == fault.Unauthenticated {
				ctx.SetHeader("WWW-Authenticate", challenge(fe))
			} else if !ok {
				// A failure to check (database down), not a bad token: an
				// opaque, logged 500 rather than a 401 carrying the cause.
				status = http.StatusInternalServerError
			}
			_ = huma.WriteErr(api, ctx, status, "", err)
			return
		}
		req.p, req.resolved = p, true
		next(huma.WithValue(ctx, principalKey{}, req))
	})
	return op
}

// challenge builds the RFC 6750 §3 header: no error code when the request
// carried no credentials, invalid_token otherwise.
func challenge(fe *fault.Error) string {
	if fe.Code == ErrMissingToken.Code {
		return `Bearer realm="api"`
	}
	return `Bearer realm="api", error="invalid_token", error_description="` + strings.ReplaceAll(fe.Message, `"`, `'`) + `"`
}
