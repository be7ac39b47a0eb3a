// Package authapi exposes the auth module over HTTP: the OAuth2 token and
// revocation endpoints, the public key set, sessions and password reset.
// The token and revocation endpoints are raw huma adapter routes, described
// in the OpenAPI document by hand, because they are form-encoded and their
// errors follow RFC 6749 §5.2, not problem JSON.
package authapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"go.uber.org/zap"

	"github.com/acme/monolith/modules/auth/authschema"
	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/authn"
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
}

// New returns the routes; events counts sign-ins and refreshes for /metrics.
func New(svc *authsvc.Service, keys *authsvc.KeyRing, auth *authn.Resolver, events *Events) *Routes {
	return &Routes{svc: svc, keys: keys, auth: auth, events: events}
}

// Register implements httpserver.Routes.
func (r *Routes) Register(api huma.API) {
	r.registerToken(api)
	r.registerRevoke(api)
	r.registerSessions(api)
}

func (r *Routes) registerToken(api huma.API) {
	reg := api.OpenAPI().Components.Schemas
	op := authn.Public(huma.Operation{
		OperationID: "login",
		Method:      http.MethodPost,
		Path:        TokenPath,
		Summary:     "Get tokens (OAuth2 password and refresh_token grants)",
		Description: "The OAuth2 token endpoint: the resource owner password credentials grant " +
			"(RFC 6749 §4.3, first-party clients only) and the refresh-token grant (§6, rotating: each " +
			"refresh token works once). Send the fields form-encoded, each once, in the body.",
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
				"application/json": {Schema: reg.Schema(reflect.TypeFor[authschema.Error](), true, "OAuthError"),
					Examples: oauthExamples(errInvalidGrant, errInvalidRefresh, errUnsupportedGrant, invalidRequest("Missing grant_type."))},
			}},
			"429": {Description: "Too many failed attempts from this account or address; see Retry-After.", Content: map[string]*huma.MediaType{
				"application/json": {Schema: reg.Schema(reflect.TypeFor[authschema.Error](), true, "OAuthError"),
					Examples: oauthExamples(throttled(1))},
			}},
			"503": {Description: "temporarily_unavailable: the database is unreachable or the server is too busy to check passwords; see Retry-After.", Content: map[string]*huma.MediaType{
				"application/json": {Schema: reg.Schema(reflect.TypeFor[authschema.Error](), true, "OAuthError"),
					Examples: oauthExamples(unavailable(1))},
			}},
			"500": {Description: "server_error: an unexpected failure, logged with the request id.", Content: map[string]*huma.MediaType{
				"application/json": {Schema: reg.Schema(reflect.TypeFor[authschema.Error](), true, "OAuthError"),
					Examples: oauthExamples(errServer)},
			}},
		},
	})
	api.OpenAPI().AddOperation(&op)
	api.Adapter().Handle(&op, r.token)
}

// oauthExamples are the examples of an RFC 6749 error response, one per
// answer, named by the error and what distinguishes it.
func oauthExamples(errs ...*oauthError) map[string]*huma.Example {
	out := map[string]*huma.Example{}
	for i, e := range errs {
		name := e.body.Error
		if _, dup := out[name]; dup {
			name += "_" + strconv.Itoa(i+1)
		}
		out[name] = &huma.Example{Summary: e.body.ErrorDescription, Value: e.body}
	}
	return out
}

type oauthError struct {
	status     int
	body       authschema.Error
	retryAfter int
}

func invalidRequest(desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, body: authschema.Error{Error: "invalid_request", ErrorDescription: desc}}
}

var (
	errUnsupportedGrant = &oauthError{status: http.StatusBadRequest, body: authschema.Error{Error: "unsupported_grant_type", ErrorDescription: "Only grant_type=password and grant_type=refresh_token are supported."}}
	errInvalidGrant     = &oauthError{status: http.StatusBadRequest, body: authschema.Error{Error: "invalid_grant", ErrorDescription: "Incorrect email or password."}}
	errInvalidRefresh   = &oauthError{status: http.StatusBadRequest, body: authschema.Error{Error: "invalid_grant", ErrorDescription: "The refresh token is invalid, expired or revoked."}}
	errServer           = &oauthError{status: http.StatusInternalServerError, body: authschema.Error{Error: "server_error", ErrorDescription: "The server could not issue a token; try again later."}}
)

// throttled is the one 429 body, whichever counter tripped.
func throttled(retryAfter int) *oauthError {
	return &oauthError{status: http.StatusTooManyRequests, retryAfter: max(retryAfter, 1),
		body: authschema.Error{Error: "temporarily_unavailable", ErrorDescription: "Too many attempts; try again later."}}
}

// unavailable is the 503 of RFC 6749 §5.2's temporarily_unavailable (the
// database is down, the password hasher's queue is full): OAuth2 clients
// recognise it and know to come back after Retry-After.
func unavailable(retryAfter int) *oauthError {
	return &oauthError{status: http.StatusServiceUnavailable, retryAfter: max(retryAfter, 1),
		body: authschema.Error{Error: "temporarily_unavailable", ErrorDescription: "The server cannot issue a token right now; try again later."}}
}

func (r *Routes) token(hctx huma.Context) {
	// RFC 6749 §5.1: token responses must not be cached.
	hctx.SetHeader("Cache-Control", "no-store")
	hctx.SetHeader("Pragma", "no-cache")
	form, oerr := readForm(hctx)
	if oerr == nil {
		var g authsvc.Grant
		g, oerr = r.grant(hctx, form)
		if oerr == nil {
			write(hctx, http.StatusOK, authschema.Token{
				AccessToken: g.Access.Token, TokenType: "bearer", ExpiresIn: int(g.Access.ExpiresIn.Seconds()),
				RefreshToken: g.Refresh,
			})
			return
		}
	}
	if oerr.retryAfter > 0 {
		hctx.SetHeader("Retry-After", strconv.Itoa(oerr.retryAfter))
	}
	write(hctx, oerr.status, oerr.body)
}

// clientOf describes the caller for the session list and throttling.
func clientOf(hctx huma.Context, clientID string) authsvc.Client {
	return authsvc.Client{ID: clientID, UserAgent: hctx.Header("User-Agent"), IP: httpserver.ClientIP(hctx.Context())}
}

func (r *Routes) grant(hctx huma.Context, form url.Values) (authsvc.Grant, *oauthError) {
	ctx := hctx.Context()
	var required []string
	switch gt := form.Get("grant_type"); {
	case !form.Has("grant_type") || gt == "":
		return authsvc.Grant{}, invalidRequest("Missing grant_type.")
	case gt == "password":
		required = []string{"username", "password"}
	case gt == "refresh_token":
		required = []string{"refresh_token"}
	default:
		return authsvc.Grant{}, errUnsupportedGrant
	}
	for _, f := range required {
		if !form.Has(f) || (f != "password" && form.Get(f) == "") {
			return authsvc.Grant{}, invalidRequest("Missing " + f + ".")
		}
	}
	clientID := form.Get("client_id")
	if len(clientID) > 64 {
		return authsvc.Grant{}, invalidRequest("client_id is too long.")
	}
	// RFC 6749 Appendix A.1: client-id = *VSCHAR (printable ASCII). It is
	// stored with the session, and Postgres refuses NUL or invalid UTF-8.
	if strings.IndexFunc(clientID, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
		return authsvc.Grant{}, invalidRequest("client_id must be printable ASCII.")
	}
	var g authsvc.Grant
	var err error
	if form.Get("grant_type") == "password" {
		if clientID == "" {
			clientID = "default"
		}
		g, err = r.svc.Login(ctx, form.Get("username"), form.Get("password"), clientOf(hctx, clientID))
	} else {
		// No client_id: the refresh token's own client (public clients
		// need not repeat it); a different one is refused by the service.
		g, err = r.svc.Refresh(ctx, form.Get("refresh_token"), clientOf(hctx, clientID))
	}
	count := r.events.Login
	if form.Get("grant_type") == "refresh_token" {
		count = r.events.Refresh
	}
	switch {
	case err == nil:
		count(ResultOK)
		return g, nil
	case errors.Is(err, authn.ErrInvalidCredentials):
		count(ResultFailed)
		return authsvc.Grant{}, errInvalidGrant
	case errors.Is(err, authsvc.ErrInvalidGrant):
		count(ResultFailed)
		return authsvc.Grant{}, errInvalidRefresh
	}
	// Everything else by the platform's one table, in RFC 6749 bodies.
	switch problem.Status(err) {
	case http.StatusTooManyRequests:
		r.events.Throttled()
		return authsvc.Grant{}, throttled(problem.RetryAfter(err))
	case http.StatusServiceUnavailable:
		count(ResultError)
		if errors.Is(err, context.Canceled) {
			// The client left; nobody reads this answer.
			logging.FromContext(ctx).Info("token endpoint: client went away", zap.Error(err))
		} else {
			logging.FromContext(ctx).Warn("token endpoint unavailable", zap.Error(err))
		}
		return authsvc.Grant{}, unavailable(problem.RetryAfter(err))
	default:
		count(ResultError)
		logging.FromContext(ctx).Error("token endpoint", zap.Error(err))
		return authsvc.Grant{}, errServer
	}
}

// readForm enforces RFC 6749 §3.2: POST, form-encoded body, no parameters
// in the URI (they would land in logs and histories), none repeated.
func readForm(hctx huma.Context) (url.Values, *oauthError) {
	u := hctx.URL()
	return decodeForm(u.RawQuery, hctx.Header("Content-Type"), hctx.BodyReader())
}

// decodeForm is readForm without the HTTP context, so it can be fuzzed.
func decodeForm(rawQuery, contentType string, r io.Reader) (url.Values, *oauthError) {
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
