// Package authapi exposes the OAuth2 token endpoint. It is a raw huma
// adapter route, described in the OpenAPI document by hand, because the
// password grant is form-encoded and its errors follow RFC 6749 §5.2, not
// problem JSON.
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

	"github.com/danielgtaylor/huma/v2"
	"go.uber.org/zap"

	"github.com/acme/monolith/modules/auth/authschema"
	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/logging"
)

// maxFormBytes bounds the token request body: the real one is tiny.
const maxFormBytes = 16 << 10

// Routes serves the token endpoint.
type Routes struct {
	svc *authsvc.Service
}

// New returns the routes.
func New(svc *authsvc.Service) *Routes { return &Routes{svc: svc} }

// Register implements httpserver.Routes.
func (r *Routes) Register(api huma.API) {
	reg := api.OpenAPI().Components.Schemas
	op := &huma.Operation{
		OperationID: "login",
		Method:      http.MethodPost,
		Path:        "/api/auth/login",
		Summary:     "Get an access token (OAuth2 password grant)",
		Description: "The OAuth2 token endpoint for the resource owner password credentials grant " +
			"(RFC 6749 §4.3), for first-party clients. Send the fields form-encoded, each once, in the body.",
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
				"application/json": {Schema: reg.Schema(reflect.TypeFor[authschema.Error](), true, "OAuthError")},
			}},
		},
	}
	api.OpenAPI().AddOperation(op)
	api.Adapter().Handle(op, r.token)
}

type oauthError struct {
	status int
	body   authschema.Error
}

func invalidRequest(desc string) *oauthError {
	return &oauthError{http.StatusBadRequest, authschema.Error{Error: "invalid_request", ErrorDescription: desc}}
}

var (
	errUnsupportedGrant = &oauthError{http.StatusBadRequest, authschema.Error{Error: "unsupported_grant_type", ErrorDescription: "Only grant_type=password is supported."}}
	errInvalidGrant     = &oauthError{http.StatusBadRequest, authschema.Error{Error: "invalid_grant", ErrorDescription: "Incorrect email or password."}}
	errServer           = &oauthError{http.StatusInternalServerError, authschema.Error{Error: "server_error", ErrorDescription: "The server could not issue a token; try again later."}}
)

func (r *Routes) token(hctx huma.Context) {
	// RFC 6749 §5.1: token responses must not be cached.
	hctx.SetHeader("Cache-Control", "no-store")
	hctx.SetHeader("Pragma", "no-cache")
	form, oerr := readForm(hctx)
	if oerr == nil {
		var issued authsvc.Issued
		issued, oerr = r.login(hctx.Context(), form)
		if oerr == nil {
			write(hctx, http.StatusOK, authschema.Token{
				AccessToken: issued.Token, TokenType: "bearer", ExpiresIn: int(issued.ExpiresIn.Seconds()),
			})
			return
		}
	}
	write(hctx, oerr.status, oerr.body)
}

func (r *Routes) login(ctx context.Context, form url.Values) (authsvc.Issued, *oauthError) {
	switch gt := form.Get("grant_type"); {
	case !form.Has("grant_type") || gt == "":
		return authsvc.Issued{}, invalidRequest("Missing grant_type.")
	case gt != "password":
		return authsvc.Issued{}, errUnsupportedGrant
	}
	for _, f := range []string{"username", "password"} {
		if !form.Has(f) || (f == "username" && form.Get(f) == "") {
			return authsvc.Issued{}, invalidRequest("Missing " + f + ".")
		}
	}
	clientID := form.Get("client_id")
	if clientID == "" {
		clientID = "default"
	}
	issued, err := r.svc.Login(ctx, form.Get("username"), form.Get("password"), clientID)
	switch {
	case err == nil:
		return issued, nil
	case errors.Is(err, authn.ErrInvalidCredentials):
		return authsvc.Issued{}, errInvalidGrant
	default:
		logging.FromContext(ctx).Error("token endpoint", zap.Error(err))
		return authsvc.Issued{}, errServer
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
