// Package authn is the one contract between authentication and accounts,
// and the current-user resolver any module protects an operation with
// (Resolver.Protect for any signed-in user, Resolver.Require for the
// holders of permissions) and reads the caller from in its handler
// (CurrentUser).
//
// Everything that crosses between the auth module (tokens, sessions,
// password reset) and the users module (accounts) is declared here, once,
// so neither imports the other: the users module provides Accounts; the
// auth module provides TokenVerifier and Revoker. Both use the same
// Account type, the same rule for whether an account may act
// (Account.MayAct) and the same email normalisation (NormalizeEmail).
package authn

import (
	"context"
	"errors"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/acme/monolith/platform/authz"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/problem"
)

// SecurityScheme is the OpenAPI security scheme protected operations use.
const SecurityScheme = "oauth2"

// maxTokenLen bounds the bearer value: a real access token is well under
// 2 KiB; anything larger is refused before any parsing.
const maxTokenLen = 4096

// Account is an account as authentication and every module see it.
type Account struct {
	UserID   uuid.UUID
	Email    string
	FullName string
	Active   bool
	// Kind is KindUser or KindService (a service account: no password,
	// only API keys).
	Kind string
	// EmailVerified: the holder proved they receive mail at Email, at
	// EmailVerifiedAt.
	EmailVerified   bool
	EmailVerifiedAt *time.Time
	// Roles are the account's roles and Permissions what they grant, as
	// loaded with the account: a change takes effect on the next request.
	Roles       []RoleRef
	Permissions authz.Set
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// The kinds of account.
const (
	KindUser    = "user"
	KindService = "service"
)

// IsService reports whether a is a service account.
func (a Account) IsService() bool { return a.Kind == KindService }

// RoleRef names one role an account holds.
type RoleRef struct {
	ID   uuid.UUID
	Name string
}

// MayAct is the one rule deciding whether an account may act: sign-in,
// refresh, every protected request and password recovery all ask it, so
// an account that may not act is refused the same way everywhere (each
// caller answers in its own terms: invalid_grant, invalid_token, silence).
func (a Account) MayAct() error {
	if !a.Active {
		return ErrInactiveUser
	}
	return nil
}

// Principal is the authenticated caller of a request: the account as the
// resolver loaded it at the start of the request, and the session and
// client its access token belongs to.
type Principal struct {
	Account
	SessionID uuid.UUID
	ClientID  string
	// AuthTime is when the caller last proved who they are (signed in
	// with a password; refreshing keeps it), AMR how (RFC 8176 values).
	AuthTime time.Time
	AMR      []string
	// KeyID is the API key the request authenticated with (uuid.Nil for
	// an access token); then SessionID is uuid.Nil and Permissions are
	// the key's and the owner's current ones, intersected.
	KeyID uuid.UUID
}

// ViaKey reports whether the request authenticated with an API key.
func (p Principal) ViaKey() bool { return p.KeyID != uuid.Nil }

// Claims is what a verified access token asserts.
type Claims struct {
	Subject   uuid.UUID
	SessionID uuid.UUID
	ClientID  string
	TokenID   string
	// AuthTime and AMR are OpenID Connect's auth_time and amr: when and
	// how the session's user authenticated. A token without them is as
	// old as can be: step-up operations refuse it.
	AuthTime time.Time
	AMR      []string
}

// TokenVerifier checks an access token's signature and claims and that
// its session is live. The auth module provides it.
type TokenVerifier interface {
	VerifyAccessToken(ctx context.Context, token string) (Claims, error)
}

// KeyVerifier checks API keys. The auth module provides it; the resolver
// hands it every bearer value it Recognizes, and never a JWT.
type KeyVerifier interface {
	// Recognizes reports whether token carries an API-key prefix (no I/O).
	Recognizes(token string) bool
	// VerifyAPIKey checks the key's format and checksum before any
	// lookup, then that it is stored, unrevoked and unexpired.
	VerifyAPIKey(ctx context.Context, token string) (KeyClaims, error)
}

// KeyClaims is what a verified API key grants: at most Permissions, on
// behalf of Owner.
type KeyClaims struct {
	KeyID       uuid.UUID
	Owner       uuid.UUID
	Permissions authz.Set
}

// Accounts is the account store authentication runs against. The users
// module provides it; the resolver and the auth module consume it. It
// finds accounts whether or not they may act: the caller applies
// Account.MayAct, so that rule lives in one place.
type Accounts interface {
	// Authenticate checks a password. Unknown email and wrong password
	// both return ErrInvalidCredentials, after the same hashing work.
	Authenticate(ctx context.Context, email, password string) (Account, error)
	// Account finds an account by id; a NotFound fault if there is none.
	Account(ctx context.Context, id uuid.UUID) (Account, error)
	// AccountByEmail finds an account by an email as typed (normalised
	// with NormalizeEmail); a NotFound fault if there is none.
	AccountByEmail(ctx context.Context, email string) (Account, error)
	// ResetPassword sets a new password (policy-checked) without the old
	// one, as password reset does; the account's sessions end.
	ResetPassword(ctx context.Context, id uuid.UUID, password string) error
}

// Revoker ends what authentication holds for an account. The auth module
// provides it; the users module calls it when a password changes or an
// account is deactivated or deleted (sessions and reset tokens), and when
// an email changes (reset tokens: one mailed earlier must not reach an
// address that is no longer the account's).
type Revoker interface {
	// RevokeUserSessions ends every session of the user: refresh tokens
	// and the access tokens issued from them.
	RevokeUserSessions(ctx context.Context, userID uuid.UUID) error
	// RevokePasswordResets ends the user's outstanding reset tokens.
	RevokePasswordResets(ctx context.Context, userID uuid.UUID) error
}

// EmailLinks mails the links that prove control of an address. The auth
// module provides it (it keeps the tokens and serves the pages the links
// open); the users module calls it when an account is registered and
// when its holder asks to change the address. Each call writes its token
// and hands its mail to the sender inside the caller's transaction
// (txn.Run), so a rolled-back registration leaves neither.
type EmailLinks interface {
	// SendVerification mails a's address a single-use link that marks it
	// verified (EmailOwners.VerifyEmail).
	SendVerification(ctx context.Context, a Account) error
	// SendRegistrationAttempt tells the holder of a that someone tried to
	// register their address again: the registration answered as for a
	// new address, so this mail is the only trace.
	SendRegistrationAttempt(ctx context.Context, a Account) error
	// SendEmailChange mails newEmail a single-use link that moves a to
	// it (EmailOwners.ChangeEmail), replacing any pending change, and
	// tells a's current address that a change was asked for.
	SendEmailChange(ctx context.Context, a Account, newEmail string) error
	// CancelEmailChange voids a's pending change, if any.
	CancelEmailChange(ctx context.Context, userID uuid.UUID) error
}

// EmailOwners applies what a redeemed email link proves. The users module
// provides it; the auth module calls it inside the transaction that
// spends the token, so a refusal leaves the token unspent.
type EmailOwners interface {
	// VerifyEmail marks the account's address verified if it still is
	// email; ErrEmailMismatch if the account moved to another since.
	VerifyEmail(ctx context.Context, id uuid.UUID, email string) error
	// ChangeEmail moves the account to email, verified; a Conflict fault
	// if another account holds it by now; ErrEmailMismatch if the account
	// may no longer act (a deactivated account moves nowhere).
	ChangeEmail(ctx context.Context, id uuid.UUID, email string) error
}

// ErrEmailMismatch is a verification link for an address the account no
// longer has; the auth module answers it as an invalid link.
var ErrEmailMismatch = errors.New("the account's email is no longer the one the link was sent to")

// Errors of authentication.
var (
	// ErrEmailUnverified is a correct password for an account whose
	// address is unverified while EMAIL_VERIFICATION=required. Only the
	// password's holder ever sees it (a wrong password answers
	// ErrInvalidCredentials first); at the token endpoint it is RFC 6749's
	// invalid_grant, with a description that says what to do.
	ErrEmailUnverified = fault.New(fault.Refused, "invalid_grant",
		"Verify your email address first: open the link emailed to you, or ask for a new one at POST /api/auth/verify-email/resend.")

	ErrInvalidCredentials = fault.New(fault.Unauthenticated, "invalid_credentials", "Incorrect email or password.")
	ErrMissingToken       = fault.New(fault.Unauthenticated, "missing_token", "This operation requires a bearer token.")
	ErrInvalidToken       = fault.New(fault.Unauthenticated, "invalid_token", "The access token is invalid or expired.")
	// ErrInactiveUser is an account that may not act. It reads like
	// ErrInvalidToken on purpose: a protected route must not tell a
	// disabled account from a bad token.
	ErrInactiveUser = fault.New(fault.Unauthenticated, "invalid_token", "The access token is invalid or expired.")
	// ErrPermissionRequired is a signed-in caller lacking a permission the
	// operation requires; PermissionRequired names it in the detail.
	ErrPermissionRequired = fault.New(fault.Forbidden, "permission_required", "This operation requires a permission you do not hold.")
	ErrInvalidEmail       = fault.New(fault.Invalid, "invalid_email", "must be a valid email address")
	// ErrReauthenticate is a valid token whose sign-in is older than the
	// operation accepts (RFC 9470): the client signs in again.
	ErrReauthenticate = fault.New(fault.Unauthenticated, "reauthentication_required", "This operation needs a recent sign-in: sign in again, then retry.")
	// ErrSessionRequired is an API key on an operation that needs a
	// signed-in session (key management, password change, sessions).
	ErrSessionRequired = fault.New(fault.Forbidden, "session_required", "This operation needs a signed-in session; an API key cannot perform it.")
)

// PermissionRequired is ErrPermissionRequired naming the missing
// permission (it still matches ErrPermissionRequired with errors.Is).
func PermissionRequired(name string) *fault.Error {
	e := *ErrPermissionRequired
	e.Message = "This operation requires the permission " + name + "."
	return &e
}

// maxEmailLen is RFC 5321's limit on a path (254 octets of address).
const maxEmailLen = 254

// NormalizeEmail is the one form an email is stored and looked up in, for
// both modules: a bare RFC 5322 address (no display name, no surrounding
// blanks: refused, not trimmed, so what was typed is what is checked), at
// most 254 bytes, lower-cased (strings.ToLower, full Unicode), which makes
// uniqueness case-insensitive on both databases. It applies no Unicode
// normalisation (NFC): stored rows were never composed, so composing now
// would make an address stored decomposed unreachable.
func NormalizeEmail(e string) (string, error) {
	if e == "" || len(e) > maxEmailLen || strings.TrimSpace(e) != e {
		return "", ErrInvalidEmail
	}
	addr, err := mail.ParseAddress(e)
	if err != nil || addr.Address != e || addr.Name != "" {
		return "", ErrInvalidEmail
	}
	local, domain, ok := strings.Cut(e, "@")
	if !ok || local == "" || domain == "" || strings.HasPrefix(domain, "[") {
		return "", ErrInvalidEmail
	}
	return strings.ToLower(e), nil
}

// Resolver turns an Authorization header into a Principal.
type Resolver struct {
	verifier TokenVerifier
	accounts Accounts
	// stepUp is how recent a sign-in Recent operations need.
	stepUp time.Duration
	now    func() time.Time
	keys   KeyVerifier
}

// DefaultStepUpMaxAge is AUTH_STEP_UP_MAX_AGE's default.
const DefaultStepUpMaxAge = 10 * time.Minute

// NewResolver returns a resolver; stepUp is how recent a sign-in the
// operations marked Recent need (0: DefaultStepUpMaxAge).
func NewResolver(v TokenVerifier, a Accounts, stepUp time.Duration) *Resolver {
	if stepUp <= 0 {
		stepUp = DefaultStepUpMaxAge
	}
	return &Resolver{verifier: v, accounts: a, stepUp: stepUp, now: time.Now}
}

// WithKeys makes r accept API keys too, checked by k; nil leaves r as is.
func (r *Resolver) WithKeys(k KeyVerifier) *Resolver {
	r.keys = k
	return r
}

// Resolve authenticates an Authorization header value: a valid, unexpired
// token of a live session whose account still exists and may act.
func (r *Resolver) Resolve(ctx context.Context, authorization string) (Principal, error) {
	token, err := bearerToken(authorization)
	if err != nil {
		return Principal{}, err
	}
	if r.keys != nil && r.keys.Recognizes(token) {
		return r.resolveKey(ctx, token)
	}
	claims, err := r.verifier.VerifyAccessToken(ctx, token)
	if err != nil {
		return Principal{}, err
	}
	a, err := r.account(ctx, claims.Subject)
	if err != nil {
		return Principal{}, err
	}
	return Principal{Account: a, SessionID: claims.SessionID, ClientID: claims.ClientID, AuthTime: claims.AuthTime, AMR: claims.AMR}, nil
}

// resolveKey authenticates an API key: the owner is loaded on every
// request, like a token's account, so a key never outlives its owner's
// deactivation, deletion or lost permissions.
func (r *Resolver) resolveKey(ctx context.Context, token string) (Principal, error) {
	kc, err := r.keys.VerifyAPIKey(ctx, token)
	if err != nil {
		return Principal{}, err
	}
	a, err := r.account(ctx, kc.Owner)
	if err != nil {
		return Principal{}, err
	}
	a.Permissions = authz.Intersect(kc.Permissions, a.Permissions)
	return Principal{Account: a, KeyID: kc.KeyID}, nil
}

// account loads the caller's account, which must exist and may act.
func (r *Resolver) account(ctx context.Context, id uuid.UUID) (Account, error) {
	a, err := r.accounts.Account(ctx, id)
	if err == nil {
		err = a.MayAct()
	}
	if err != nil {
		if fe, ok := fault.As(err); ok && (fe.Kind == fault.NotFound || fe.Kind == fault.Unauthenticated) {
			return Account{}, ErrInvalidToken
		}
		return Account{}, err
	}
	return a, nil
}

// recentKey marks an operation Recent in its metadata.
const recentKey = "authn.recent"

// Recent marks a protected operation as sensitive: besides a valid token
// it needs a sign-in within AUTH_STEP_UP_MAX_AGE (RFC 9470 step-up), so a
// stolen long-lived session cannot change the password, the email or
// anyone's permissions. Wrap the operation before Protect or Require.
func Recent(op huma.Operation) huma.Operation {
	if op.Metadata == nil {
		op.Metadata = map[string]any{}
	}
	op.Metadata[recentKey] = true
	return op
}

// IsRecent reports whether op is marked Recent.
func IsRecent(op *huma.Operation) bool {
	v, _ := op.Metadata[recentKey].(bool)
	return v
}

// CheckRecent is ErrReauthenticate, carrying the challenge a Recent
// operation answers with, unless the caller of ctx signed in within the
// step-up age: for an operation that is sensitive only for some inputs
// (changing the email among other fields).
func (r *Resolver) CheckRecent(ctx context.Context) error {
	p, err := CurrentUser(ctx)
	if err != nil {
		return err
	}
	if p.ViaKey() {
		return ErrSessionRequired
	}
	if err := r.recent(p); err != nil {
		return huma.ErrorWithHeaders(err, http.Header{"Www-Authenticate": {r.challenge(err)}})
	}
	return nil
}

func (r *Resolver) recent(p Principal) error {
	if p.AuthTime.IsZero() || r.now().Sub(p.AuthTime) > r.stepUp {
		return ErrReauthenticate
	}
	return nil
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

// CurrentUser returns the caller of a protected operation. In an operation
// that was not protected it reports ErrMissingToken, so forgetting Protect
// fails closed.
func CurrentUser(ctx context.Context) (Principal, error) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	if !ok {
		return Principal{}, ErrMissingToken
	}
	return p, nil
}

// WithPrincipal stores the caller; tests of handlers and CLI paths use it.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// Public marks op as open to anyone: the document says so with an empty
// security requirement. The application's contract test fails on an
// operation that is neither protected nor marked public, so none is
// public by omission.
func Public(op huma.Operation) huma.Operation {
	op.Security = []map[string][]string{}
	return op
}

// Protect requires a signed-in, active user for op; an API key may call
// it.
func (r *Resolver) Protect(api huma.API, op huma.Operation) huma.Operation {
	return r.protect(api, op, nil, false)
}

// ProtectSession is Protect refusing API keys (403 session_required):
// for what must stay with a person holding a session, such as creating
// keys, so that a leaked key cannot mint more keys or take the account.
func (r *Resolver) ProtectSession(api huma.API, op huma.Operation) huma.Operation {
	line := "Needs a signed-in session: an API key is refused (403 `session_required`)."
	if op.Description == "" {
		op.Description = line
	} else {
		op.Description += "\n\n" + line
	}
	return r.protect(api, op, nil, true)
}

// Require requires a signed-in, active user holding every one of perms
// for op:
//
//	huma.Register(api, r.auth.Require(api, huma.Operation{...}, "notes:write"), h)
//
// The document lists them as the OAuth2 scopes of the operation's
// security requirement and in its description. A permission no module
// declared (authz.Provide) stops the server at start.
func (r *Resolver) Require(api huma.API, op huma.Operation, perms ...string) huma.Operation {
	return r.require(api, op, perms, false)
}

// RequireSession is Require refusing API keys (403 session_required),
// as ProtectSession is Protect.
func (r *Resolver) RequireSession(api huma.API, op huma.Operation, perms ...string) huma.Operation {
	op = r.require(api, op, perms, true)
	op.Description += "\n\nNeeds a signed-in session: an API key is refused (403 `session_required`)."
	return op
}

func (r *Resolver) require(api huma.API, op huma.Operation, perms []string, session bool) huma.Operation {
	if len(perms) == 0 {
		panic("authn: Require needs at least one permission; use Protect for any signed-in user")
	}
	quoted := make([]string, len(perms))
	for i, p := range perms {
		quoted[i] = "`" + p + "`"
	}
	line := "Requires the permission " + strings.Join(quoted, " and ") + "."
	if len(perms) > 1 {
		line = "Requires the permissions " + strings.Join(quoted, " and ") + "."
	}
	if op.Description == "" {
		op.Description = line
	} else {
		op.Description += "\n\n" + line
	}
	return r.protect(api, op, slices.Clone(perms), session)
}

func (r *Resolver) protect(api huma.API, op huma.Operation, perms []string, session bool) huma.Operation {
	scopes := perms
	if scopes == nil {
		scopes = []string{}
	}
	op.Security = append(op.Security, map[string][]string{SecurityScheme: scopes})
	recent := IsRecent(&op)
	for _, s := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		if len(perms) == 0 && !session && !recent && s == http.StatusForbidden {
			continue
		}
		if !slices.Contains(op.Errors, s) {
			op.Errors = append(op.Errors, s)
		}
	}
	if recent {
		op.Description = strings.TrimSpace(op.Description + "\n\nNeeds a recent sign-in (`AUTH_STEP_UP_MAX_AGE`, RFC 9470): " +
			"an older one is answered 401 `reauthentication_required` with an `insufficient_user_authentication` challenge; sign in again.")
	}
	op.Middlewares = append(op.Middlewares, func(ctx huma.Context, next func(huma.Context)) {
		p, err := r.Resolve(ctx.Context(), ctx.Header("Authorization"))
		if err == nil {
			err = holds(p, perms)
		}
		// A key can never sign in again, so a Recent operation is one
		// only a session may perform.
		if err == nil && (session || recent) && p.ViaKey() {
			err = ErrSessionRequired
		}
		if err == nil && recent {
			err = r.recent(p)
		}
		if err != nil {
			// The status is the table's, like every other answer's; what
			// is added here is RFC 6750 §3's challenge for it. A failure to
			// check (database down) is no challenge: a 5xx, logged.
			status := problem.Status(err)
			switch status {
			case http.StatusUnauthorized:
				ctx.SetHeader("WWW-Authenticate", r.challenge(err))
			case http.StatusForbidden:
				if errors.Is(err, ErrSessionRequired) {
					break
				}
				// RFC 6750 §3.1: insufficient_scope, with the scope the
				// operation needs.
				ctx.SetHeader("WWW-Authenticate", `Bearer realm="api", error="insufficient_scope", scope="`+
					strings.Join(perms, " ")+`", error_description="permission required"`)
			}
			_ = huma.WriteErr(api, ctx, status, "", err)
			return
		}
		next(huma.WithValue(ctx, principalKey{}, p))
	})
	return op
}

// holds is nil if p holds every one of perms, else the error naming the
// first it lacks.
func holds(p Principal, perms []string) error {
	for _, name := range perms {
		if !p.Permissions.Has(name) {
			return PermissionRequired(name)
		}
	}
	return nil
}

// RequiredPermissions are the permissions op requires (Require), read
// from its security requirement.
func RequiredPermissions(op *huma.Operation) []string {
	var out []string
	for _, req := range op.Security {
		out = append(out, req[SecurityScheme]...)
	}
	return out
}

// challenge builds the RFC 6750 §3 header: no error code when the request
// carried no credentials, invalid_token otherwise.
func (r *Resolver) challenge(err error) string {
	fe, ok := fault.As(err)
	if !ok || fe.Code == ErrMissingToken.Code {
		return `Bearer realm="api"`
	}
	if fe.Code == ErrReauthenticate.Code {
		// RFC 9470 §3: the error and the age the operation accepts.
		return `Bearer realm="api", error="insufficient_user_authentication", error_description="A more recent authentication is required.", max_age=` +
			strconv.Itoa(int(r.stepUp/time.Second))
	}
	return `Bearer realm="api", error="invalid_token", error_description="` + strings.ReplaceAll(fe.Message, `"`, `'`) + `"`
}
