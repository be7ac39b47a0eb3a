// Package authapi exposes the auth module over HTTP: the OAuth2 token and
// revocation endpoints, the public key set, sessions and password reset.
// The token and revocation endpoints are raw huma adapter routes, described
// in the OpenAPI document by hand, because they are form-encoded and their
// errors follow RFC 6749 §5.2, not problem JSON.
package authapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"go.uber.org/zap"

	"github.com/acme/monolith/modules/auth/authschema"
	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/logging"
	"github.com/acme/monolith/platform/problem"
)

// maxFormBytes bounds the token request body: the real one is tiny.
const maxFormBytes = 16 << 10

// Routes serves the auth endpoints.
type Routes struct {
	svc    *authsvc.Service
	keys   *authsvc.KeyRing
	auth   *authn.Resolver
	events *Events
	// apiKeys manages API keys; accounts finds the service accounts
	// they are created for.
	apiKeys  *authsvc.APIKeys
	accounts authn.Accounts
	mfa      *authsvc.MFA
}

// New returns the routes; events counts sign-ins and refreshes for /metrics.
// mfa runs two-factor enrolment.
func New(svc *authsvc.Service, keys *authsvc.KeyRing, auth *authn.Resolver, events *Events, apiKeys *authsvc.APIKeys, accounts authn.Accounts, mfa *authsvc.MFA) *Routes {
	return &Routes{svc: svc, keys: keys, auth: auth, events: events, apiKeys: apiKeys, accounts: accounts, mfa: mfa}
}

// The MFA extension grants (RFC 6749 §4.5), in Auth0's shape, which
// client libraries already implement: after a password grant answered
// mfa_required, the mfa_token and a TOTP code, or a recovery code.
const (
	GrantMFAOTP      = "http://auth0.com/oauth/grant-type/mfa-otp"
	GrantMFARecovery = "http://auth0.com/oauth/grant-type/mfa-recovery-code"
)

// Register implements httpserver.Routes.
func (r *Routes) Register(api huma.API) {
	r.registerToken(api)
	r.registerRevoke(api)
	r.registerSessions(api)
	r.registerAPIKeys(api)
	r.registerMFA(api)
	r.registerEmail(api)
}

func (r *Routes) registerToken(api huma.API) {
	reg := api.OpenAPI().Components.Schemas
	oauthError := reg.Schema(reflect.TypeFor[authschema.Error](), true, "OAuthError")
	op := authn.Public(huma.Operation{
		OperationID: "login",
		Method:      http.MethodPost,
		Path:        TokenPath,
		Summary:     "Get tokens (OAuth2 password, refresh_token and MFA grants)",
		Description: "The OAuth2 token endpoint: the resource owner password credentials grant " +
			"(RFC 6749 §4.3, first-party clients only), the refresh-token grant (§6, rotating: each " +
			"refresh token works once) and the two-factor grants. Send the fields form-encoded, each once, in the body.\n\n" +
			"Two-factor authentication (Auth0's shape, RFC 6749 §4.5 extension grants): for an account with a second factor, " +
			"a right password is answered 403 `{\"error\":\"mfa_required\",\"error_description\":...,\"mfa_token\":...}`. " +
			"The mfa_token is single-use, bound to the account and the client, and lasts `AUTH_MFA_TOKEN_TTL` (5 minutes). " +
			"Send it back with `grant_type=" + GrantMFAOTP + "` and `otp` (the 6-digit TOTP code; each code works once, " +
			"one 30-second step of clock drift either way is accepted), or with `grant_type=" + GrantMFARecovery + "` and " +
			"`recovery_code` (each works once). The tokens then carry `amr` `[\"pwd\",\"otp\"]` (TOTP) or `[\"pwd\",\"mfa\"]` " +
			"(recovery code; RFC 8176), and so do those refreshed from them. A wrong code, and an unknown, used, expired or " +
			"another client's mfa_token, are all `invalid_grant`; failed codes are throttled per account (429). With " +
			"`AUTH_MFA_REQUIRED_FOR_ADMINS`, an administrator without a second factor is refused (403 `mfa_enrollment_required`).\n\n" +
			"Client authentication (§2.3.1): a registered client sends its id (and, if confidential, its secret) " +
			"either in an HTTP Basic header, each part form-urlencoded before base64, or as client_id and client_secret " +
			"in the body, never both. A request that names no client acts as the default public client. A refresh token " +
			"works only for the client it was issued to; a public client need not name itself again.",
		Tags: []string{"auth"},
		RequestBody: &huma.RequestBody{
			Required: true,
			Content: map[string]*huma.MediaType{
				"application/x-www-form-urlencoded": {Schema: reg.Schema(reflect.TypeFor[authschema.PasswordGrant](), true, "PasswordGrant")},
			},
		},
		Responses: map[string]*huma.Response{
			"200": {Description: "Access token issued.", Content: map[string]*huma.MediaType{
				"application/json": {Schema: reg.Schema(reflect.TypeFor[authschema.Token](), true, "Token")},
			}},
			"400": {Description: "RFC 6749 §5.2 error.", Content: map[string]*huma.MediaType{
				"application/json": {Schema: oauthError,
					Examples: oauthExamples(errInvalidGrant, authsvc.ErrInvalidGrant, authsvc.ErrMFAGrant, errUnsupportedGrant, invalidRequest("Missing grant_type."), errBothMethods)},
			}},
			"401": invalidClientResponse(reg),
			"403": {Description: "mfa_required: the password was right and the account has a second factor; continue with the mfa_token. " +
				"mfa_enrollment_required: an administrator without a second factor, while AUTH_MFA_REQUIRED_FOR_ADMINS is on.", Content: map[string]*huma.MediaType{
				"application/json": {Schema: reg.Schema(reflect.TypeFor[authschema.MFAError](), true, "MFAError"),
					Examples: map[string]*huma.Example{
						"mfa_required": {Summary: mfaRequiredDescription, Value: authschema.MFAError{
							Error: "mfa_required", ErrorDescription: mfaRequiredDescription, MFAToken: exampleMFAToken}},
						"mfa_enrollment_required": {Summary: authsvc.ErrMFAEnrolmentRequired.Message, Value: authschema.MFAError{
							Error: authsvc.ErrMFAEnrolmentRequired.Code, ErrorDescription: authsvc.ErrMFAEnrolmentRequired.Message}},
					}},
			}},
			"429": {Description: "Too many failed attempts from this account or address; see Retry-After.", Content: map[string]*huma.MediaType{
				"application/json": {Schema: oauthError,
					Examples: oauthExamples(authsvc.ErrThrottled.WithRetryAfter(time.Second))},
			}},
			"503": {Description: "temporarily_unavailable: the database is unreachable or the server is too busy to check passwords; see Retry-After.", Content: map[string]*huma.MediaType{
				"application/json": {Schema: oauthError,
					Examples: oauthExamples(&fault.Error{Kind: fault.Unavailable})},
			}},
			"500": {Description: "server_error: an unexpected failure, logged with the request id.", Content: map[string]*huma.MediaType{
				"application/json": {Schema: oauthError,
					Examples: oauthExamples(errServer)},
			}},
		},
	})
	api.OpenAPI().AddOperation(&op)
	api.Adapter().Handle(&op, r.token)
}

// invalidClientResponse documents a failed client authentication.
func invalidClientResponse(reg huma.Registry) *huma.Response {
	return &huma.Response{
		Description: "invalid_client: an unknown client, a wrong or missing secret, or a secret sent for a public client.",
		Headers: map[string]*huma.Param{"WWW-Authenticate": {
			Description: "The scheme to authenticate the client with: " + basicChallenge + ".",
			Schema:      &huma.Schema{Type: "string", Examples: []any{basicChallenge}},
		}},
		Content: map[string]*huma.MediaType{
			"application/json": {Schema: reg.Schema(reflect.TypeFor[authschema.Error](), true, "OAuthError"),
				Examples: oauthExamples(authsvc.ErrInvalidClient)},
		},
	}
}

// oauthExamples are the examples of an RFC 6749 error response, one per
// answer, named by the error and what distinguishes it.
func oauthExamples(errs ...error) map[string]*huma.Example {
	out := map[string]*huma.Example{}
	for i, err := range errs {
		e := answerOf(err)
		name := e.body.Error
		if _, dup := out[name]; dup {
			name += "_" + strconv.Itoa(i+1)
		}
		out[name] = &huma.Example{Summary: e.body.ErrorDescription, Value: e.body}
	}
	return out
}

// oauthError is an RFC 6749 §5.2 answer.
type oauthError struct {
	status     int
	body       authschema.Error
	retryAfter int
	// challenge is the WWW-Authenticate header of a 401 (§5.2: a client
	// that failed to authenticate learns the scheme to use).
	challenge string
}

// basicChallenge is what an invalid_client answer asks for.
const basicChallenge = `Basic realm="api", charset="UTF-8"`

// answerOf is the RFC 6749 answer to err. Its status comes from
// platform/problem's one table, like every other answer; what this adds is
// the body's shape: the fault's code as the OAuth2 error (invalid_request,
// invalid_grant, invalid_client...), and for what is not the client's
// doing, the RFC's temporarily_unavailable and server_error.
func answerOf(err error) *oauthError {
	status := problem.Status(err)
	switch {
	case status == http.StatusTooManyRequests:
		return &oauthError{status: status, retryAfter: max(problem.RetryAfter(err), 1),
			body: authschema.Error{Error: "temporarily_unavailable", ErrorDescription: "Too many attempts; try again later."}}
	case status == http.StatusServiceUnavailable:
		// The database is down or the password hasher's queue is full:
		// OAuth2 clients recognise this and come back after Retry-After.
		return &oauthError{status: status, retryAfter: max(problem.RetryAfter(err), 1),
			body: authschema.Error{Error: "temporarily_unavailable", ErrorDescription: "The server cannot issue a token right now; try again later."}}
	case status >= 500:
		return &oauthError{status: http.StatusInternalServerError,
			body: authschema.Error{Error: "server_error", ErrorDescription: "The server could not issue a token; try again later."}}
	}
	fe, _ := fault.As(err)
	e := &oauthError{status: status, body: authschema.Error{Error: fe.Code, ErrorDescription: fe.Message}}
	if status == http.StatusUnauthorized {
		e.challenge = basicChallenge
	}
	return e
}

// refused is an OAuth2 protocol error: a 400 by the table. These codes are
// the RFC's, listed in docs/errors.md under the OAuth2 endpoints, so they
// are not declared as problem codes.
func refused(code, desc string) error {
	return &fault.Error{Kind: fault.Refused, Code: code, Message: desc}
}

func invalidRequest(desc string) error { return refused("invalid_request", desc) }

// exampleMFAToken is the documented example: a made-up value.
const exampleMFAToken = "mfa_kP0cYb9Qm4Zr1sVt7XwA3nL8uJ5dH6gE2iO0yKqTz8w" //nolint:gosec // an example, not a credential

// mfaRequiredDescription is the error_description of mfa_required.
const mfaRequiredDescription = "Multifactor authentication required: send the mfa_token with a code."

var (
	errUnsupportedGrant = refused("unsupported_grant_type", "Only grant_type=password, refresh_token, "+GrantMFAOTP+" and "+GrantMFARecovery+" are supported.")
	// errInvalidGrant is a failed sign-in, whatever failed: RFC 6749 has
	// no other code for it, and the client must not tell them apart.
	errInvalidGrant = refused("invalid_grant", "Incorrect email or password.")
	errServer       = errors.New("token endpoint: example of an unexpected failure")
	// errBothMethods: RFC 6749 §2.3 allows one authentication method per request.
	errBothMethods = invalidRequest("Authenticate the client once: in the Authorization header or with client_id and client_secret in the body, not both.")
)

func (r *Routes) token(hctx huma.Context) {
	// RFC 6749 §5.1: token responses must not be cached.
	hctx.SetHeader("Cache-Control", "no-store")
	hctx.SetHeader("Pragma", "no-cache")
	g, err := r.grant(hctx)
	if err == nil {
		write(hctx, http.StatusOK, authschema.Token{
			AccessToken: g.Access.Token, TokenType: "bearer", ExpiresIn: int(g.Access.ExpiresIn.Seconds()),
			RefreshToken: g.Refresh,
		})
		return
	}
	var mfa *authsvc.MFARequired
	if errors.As(err, &mfa) {
		write(hctx, http.StatusForbidden, authschema.MFAError{Error: "mfa_required", ErrorDescription: mfaRequiredDescription, MFAToken: mfa.Token})
		return
	}
	writeError(hctx, answerOf(err))
}

func writeError(hctx huma.Context, e *oauthError) {
	if e.retryAfter > 0 {
		hctx.SetHeader("Retry-After", strconv.Itoa(e.retryAfter))
	}
	if e.challenge != "" {
		hctx.SetHeader("WWW-Authenticate", e.challenge)
	}
	write(hctx, e.status, e.body)
}

// clientOf describes the caller for the session list and throttling.
func clientOf(hctx huma.Context, clientID string) authsvc.Client {
	return authsvc.Client{ID: clientID, UserAgent: hctx.Header("User-Agent"), IP: httpserver.ClientIP(hctx.Context())}
}

// authenticateClient reads and checks the client credentials of a token
// or revocation request (RFC 6749 §2.3.1): an HTTP Basic header, or
// client_id (and client_secret) in the body, never both. It returns the
// client's id, or "" when the request named none.
func (r *Routes) authenticateClient(hctx huma.Context, form url.Values) (string, error) {
	id, secret, err := clientCredentials(hctx.Header("Authorization"), form)
	if err != nil {
		return "", err
	}
	return r.svc.AuthenticateClient(hctx.Context(), httpserver.ClientIP(hctx.Context()), id, secret)
}

// clientCredentials extracts the client id and secret from the request.
func clientCredentials(authorization string, form url.Values) (id, secret string, err error) {
	inBody := form.Has("client_id") || form.Has("client_secret")
	id, secret, basic, err := basicCredentials(authorization)
	if err != nil {
		return "", "", err
	}
	if basic {
		if inBody {
			return "", "", errBothMethods
		}
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
		if id == "" && secret != "" {
			return "", "", invalidRequest("client_secret needs client_id.")
		}
	}
	if len(id) > 64 {
		return "", "", invalidRequest("client_id is too long.")
	}
	// RFC 6749 Appendix A.1: client-id = *VSCHAR (printable ASCII). It is
	// stored with the session, and Postgres refuses NUL or invalid UTF-8.
	if strings.IndexFunc(id, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
		return "", "", invalidRequest("client_id must be printable ASCII.")
	}
	return id, secret, nil
}

// basicCredentials decodes an HTTP Basic Authorization header. RFC 6749
// §2.3.1 form-urlencodes the id and the secret before they are joined
// and base64-encoded, so each is unescaped here. Another scheme is not
// client authentication and is ignored; so is an empty pair, which the
// Swagger UI sends when its client fields are blank.
func basicCredentials(h string) (id, secret string, ok bool, err error) {
	scheme, value, _ := strings.Cut(h, " ")
	if h == "" || !strings.EqualFold(scheme, "Basic") {
		return "", "", false, nil
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
	if err != nil {
		return "", "", false, authsvc.ErrInvalidClient
	}
	rawID, rawSecret, found := strings.Cut(string(raw), ":")
	if !found {
		return "", "", false, authsvc.ErrInvalidClient
	}
	id, err1 := url.QueryUnescape(rawID)
	secret, err2 := url.QueryUnescape(rawSecret)
	if err1 != nil || err2 != nil {
		return "", "", false, authsvc.ErrInvalidClient
	}
	if id == "" && secret == "" {
		return "", "", false, nil
	}
	return id, secret, true, nil
}

func (r *Routes) grant(hctx huma.Context) (authsvc.Grant, error) {
	ctx := hctx.Context()
	form, err := readForm(hctx)
	if err != nil {
		return authsvc.Grant{}, err
	}
	var required []string
	switch gt := form.Get("grant_type"); {
	case !form.Has("grant_type") || gt == "":
		return authsvc.Grant{}, invalidRequest("Missing grant_type.")
	case gt == "password":
		required = []string{"username", "password"}
	case gt == "refresh_token":
		required = []string{"refresh_token"}
	case gt == GrantMFAOTP:
		required = []string{"mfa_token", "otp"}
	case gt == GrantMFARecovery:
		required = []string{"mfa_token", "recovery_code"}
	default:
		return authsvc.Grant{}, errUnsupportedGrant
	}
	for _, f := range required {
		if !form.Has(f) || (f != "password" && form.Get(f) == "") {
			return authsvc.Grant{}, invalidRequest("Missing " + f + ".")
		}
	}
	count := r.events.Login
	if form.Get("grant_type") == "refresh_token" {
		count = r.events.Refresh
	}
	clientID, err := r.authenticateClient(hctx, form)
	if err != nil {
		count(ResultFailed)
		return authsvc.Grant{}, err
	}
	var g authsvc.Grant
	switch form.Get("grant_type") {
	case "password":
		g, err = r.svc.Login(ctx, form.Get("username"), form.Get("password"), clientOf(hctx, clientID))
	case "refresh_token":
		g, err = r.svc.Refresh(ctx, form.Get("refresh_token"), clientOf(hctx, clientID))
	case GrantMFAOTP:
		g, err = r.svc.LoginMFA(ctx, form.Get("mfa_token"), form.Get("otp"), false, clientOf(hctx, clientID))
	default:
		g, err = r.svc.LoginMFA(ctx, form.Get("mfa_token"), form.Get("recovery_code"), true, clientOf(hctx, clientID))
	}
	var mfa *authsvc.MFARequired
	switch {
	case err == nil:
		count(ResultOK)
		return g, nil
	case errors.As(err, &mfa):
		// Half a sign-in: the MFA grant that completes it counts as one.
		return authsvc.Grant{}, err
	case errors.Is(err, authsvc.ErrMFAGrant), errors.Is(err, authsvc.ErrMFAEnrolmentRequired):
		count(ResultFailed)
		return authsvc.Grant{}, err
	case errors.Is(err, authn.ErrInvalidCredentials):
		count(ResultFailed)
		return authsvc.Grant{}, errInvalidGrant
	case errors.Is(err, authsvc.ErrInvalidGrant), errors.Is(err, authsvc.ErrInvalidClient):
		count(ResultFailed)
		return authsvc.Grant{}, err
	}
	switch problem.Status(err) {
	case http.StatusTooManyRequests:
		r.events.Throttled()
	case http.StatusServiceUnavailable:
		count(ResultError)
		if errors.Is(err, context.Canceled) {
			// The client left; nobody reads this answer.
			logging.FromContext(ctx).Info("token endpoint: client went away", zap.Error(err))
		} else {
			logging.FromContext(ctx).Warn("token endpoint unavailable", zap.Error(err))
		}
	default:
		count(ResultError)
		logging.FromContext(ctx).Error("token endpoint", zap.Error(err))
	}
	return authsvc.Grant{}, err
}

// readForm enforces RFC 6749 §3.2: POST, form-encoded body, no parameters
// in the URI (they would land in logs and histories), none repeated.
func readForm(hctx huma.Context) (url.Values, error) {
	u := hctx.URL()
	return decodeForm(u.RawQuery, hctx.Header("Content-Type"), hctx.BodyReader())
}

// decodeForm is readForm without the HTTP context, so it can be fuzzed.
func decodeForm(rawQuery, contentType string, r io.Reader) (url.Values, error) {
	if rawQuery != "" {
		return nil, invalidRequest("Send parameters in the request body, not the URL.")
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, invalidRequest("The body must be application/x-www-form-urlencoded.")
	}
	body, err := io.ReadAll(io.LimitReader(r, maxFormBytes+1))
	if err != nil {
		return nil, invalidRequest("Unreadable body.")
	}
	if len(body) > maxFormBytes {
		return nil, invalidRequest("The body is too large.")
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, invalidRequest("Malformed form body.")
	}
	for k, v := range form {
		if len(v) > 1 {
			return nil, invalidRequest("Parameter " + strconvQuote(k) + " is repeated.")
		}
	}
	return form, nil
}

func strconvQuote(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	b, _ := json.Marshal(s)
	return string(b)
}

func write(hctx huma.Context, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"server_error"}`)
	}
	hctx.SetHeader("Content-Type", "application/json")
	hctx.SetStatus(status)
	_, _ = hctx.BodyWriter().Write(b)
}
