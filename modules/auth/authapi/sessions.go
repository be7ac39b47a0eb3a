package authapi

import (
	"context"
	"errors"
	"net/http"
	"reflect"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/acme/monolith/modules/auth/authschema"
	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/logging"
	"github.com/acme/monolith/platform/paging"
	"github.com/acme/monolith/platform/password"
)

const tag = "auth"

// registerRevoke adds the RFC 7009 revocation endpoint, form-encoded like
// the token endpoint.
func (r *Routes) registerRevoke(api huma.API) {
	reg := api.OpenAPI().Components.Schemas
	op := authn.Public(huma.Operation{
		OperationID: "revoke",
		Method:      http.MethodPost,
		Path:        RevokePath,
		Summary:     "Revoke a token (RFC 7009)",
		Description: "Ends the session a refresh or access token belongs to. Answers 200 for unknown " +
			"or already revoked tokens too (RFC 7009 §2.2). The client authenticates as at the token endpoint " +
			"(HTTP Basic or client_id/client_secret in the body); a token issued to another client is refused " +
			"(unauthorized_client), and a public client need not name itself.",
		Tags: []string{tag},
		RequestBody: &huma.RequestBody{Required: true, Content: map[string]*huma.MediaType{
			"application/x-www-form-urlencoded": {Schema: reg.Schema(reflect.TypeFor[authschema.Revocation](), true, "Revocation")},
		}},
		Responses: map[string]*huma.Response{
			"200": {Description: "Revoked, or nothing to revoke."},
			"400": {Description: "RFC 6749 §5.2 error.", Content: map[string]*huma.MediaType{
				"application/json": {Schema: reg.Schema(reflect.TypeFor[authschema.Error](), true, "OAuthError"),
					Examples: oauthExamples(invalidRequest("Missing token."), authsvc.ErrUnauthorizedClient, errBothMethods)},
			}},
			"401": invalidClientResponse(reg),
			"503": {Description: "temporarily_unavailable: the database is unreachable; see Retry-After.", Content: map[string]*huma.MediaType{
				"application/json": {Schema: reg.Schema(reflect.TypeFor[authschema.Error](), true, "OAuthError"),
					Examples: oauthExamples(&fault.Error{Kind: fault.Unavailable})},
			}},
			"500": {Description: "server_error: an unexpected failure, logged with the request id.", Content: map[string]*huma.MediaType{
				"application/json": {Schema: reg.Schema(reflect.TypeFor[authschema.Error](), true, "OAuthError"),
					Examples: oauthExamples(errServer)},
			}},
		},
	})
	api.OpenAPI().AddOperation(&op)
	api.Adapter().Handle(&op, r.revoke)
}

func (r *Routes) revoke(hctx huma.Context) {
	hctx.SetHeader("Cache-Control", "no-store")
	if err := r.revokeToken(hctx); err != nil {
		e := answerOf(err)
		if e.status >= 500 {
			logging.FromContext(hctx.Context()).Error("revoke", zap.Error(err))
		}
		writeError(hctx, e)
		return
	}
	hctx.SetStatus(http.StatusOK)
}

func (r *Routes) revokeToken(hctx huma.Context) error {
	form, err := readForm(hctx)
	if err != nil {
		return err
	}
	if !form.Has("token") || form.Get("token") == "" {
		return invalidRequest("Missing token.")
	}
	client, err := r.authenticateClient(hctx, form)
	if err != nil {
		return err
	}
	return r.svc.Revoke(hctx.Context(), form.Get("token"), form.Get("token_type_hint"), client)
}

type jwksOut struct {
	CacheControl string `header:"Cache-Control"`
	Body         authschema.JWKS
}

type sessionPath struct {
	ID uuid.UUID `path:"id" doc:"Session id."`
}

type acceptedOut struct {
	Body authschema.Accepted
}

func (r *Routes) registerSessions(api huma.API) {
	huma.Register(api, authn.Public(huma.Operation{
		OperationID: "jwks", Method: http.MethodGet, Path: "/.well-known/jwks.json", Tags: []string{tag},
		Summary: "Public keys that verify access tokens (RFC 7517)",
		Description: "Every key that may sign or has recently signed: the next key is published here " +
			"before it signs, and retired keys stay until the tokens they signed have expired.",
	}), r.jwks)
	huma.Register(api, r.auth.ProtectSession(api, huma.Operation{
		OperationID: "logout", Method: http.MethodPost, Path: "/api/auth/logout", Tags: []string{tag},
		DefaultStatus: http.StatusNoContent,
		Summary:       "End the current session (its refresh token and access tokens stop working at once)",
	}), r.logout)
	huma.Register(api, r.auth.ProtectSession(api, huma.Operation{
		OperationID: "logout-all", Method: http.MethodPost, Path: "/api/auth/logout-all", Tags: []string{tag},
		DefaultStatus: http.StatusNoContent,
		Summary:       "End every session of the current user",
	}), r.logoutAll)
	huma.Register(api, r.auth.ProtectSession(api, httpserver.WithErrors(huma.Operation{
		OperationID: "list-sessions", Method: http.MethodGet, Path: "/api/auth/sessions", Tags: []string{tag},
		Summary:     "List the current user's active sessions",
		Description: "Oldest first, a page at a time: pass `next` as `cursor` for the following page (also in the `Link` header).",
	}, paging.ErrInvalidCursor)), r.sessions)
	huma.Register(api, r.auth.ProtectSession(api, httpserver.WithErrors(huma.Operation{
		OperationID: "end-session", Method: http.MethodDelete, Path: "/api/auth/sessions/{id}", Tags: []string{tag},
		DefaultStatus: http.StatusNoContent,
		Summary:       "End one of the current user's sessions",
	}, authsvc.ErrSessionNotFound)), r.endSession)
	huma.Register(api, authn.Public(httpserver.WithErrors(huma.Operation{
		OperationID: "password-recovery", Method: http.MethodPost, Path: "/api/auth/password-recovery", Tags: []string{tag},
		DefaultStatus: http.StatusAccepted,
		Summary:       "Email a password-reset token",
		Description: "Always answers 202 with the same body, whether or not the email belongs to an " +
			"account; the email is sent only if it does.",
	}, authsvc.ErrThrottled)), r.recover)
	huma.Register(api, authn.Public(httpserver.WithErrors(huma.Operation{
		OperationID: "reset-password", Method: http.MethodPost, Path: "/api/auth/reset-password", Tags: []string{tag},
		DefaultStatus: http.StatusNoContent,
		Summary:       "Set a new password with a reset token (single use); every session of the account ends",
	}, authsvc.ErrInvalidResetToken, password.ErrCommon.On("new_password"), authsvc.ErrThrottled, password.ErrBusy)), r.resetPassword)
}

func (r *Routes) jwks(ctx context.Context, _ *struct{}) (*jwksOut, error) {
	keys := r.keys.JWKS(ctx)
	out := &jwksOut{CacheControl: "public, max-age=60", Body: authschema.JWKS{Keys: make([]authschema.JWK, len(keys))}}
	for i, k := range keys {
		out.Body.Keys[i] = authschema.JWK{KTY: k.KTY, KID: k.KID, Alg: k.Alg, Use: k.Use, N: k.N, E: k.E}
	}
	return out, nil
}

func (r *Routes) logout(ctx context.Context, _ *struct{}) (*struct{}, error) {
	p, err := authn.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	return nil, r.svc.Logout(ctx, p.SessionID)
}

func (r *Routes) logoutAll(ctx context.Context, _ *struct{}) (*struct{}, error) {
	p, err := authn.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	return nil, r.svc.LogoutAll(ctx, p.UserID)
}

// sessionsList names the list in its cursors.
const sessionsList = "sessions"

func (r *Routes) sessions(ctx context.Context, in *struct{ paging.Params }) (*paging.Response[authschema.Session], error) {
	p, err := authn.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	req, err := in.Request(sessionsList)
	if err != nil {
		return nil, err
	}
	list, err := r.svc.Sessions(ctx, p.UserID, req)
	if err != nil {
		return nil, err
	}
	return paging.Respond(sessionsList, "/api/auth/sessions", req, list, func(s authsvc.Session) authschema.Session {
		return authschema.Session{
			ID: s.ID, ClientID: s.ClientID, UserAgent: s.UserAgent, IP: s.IP,
			CreatedAt: s.CreatedAt, LastUsedAt: s.LastUsedAt, ExpiresAt: s.ExpiresAt, Current: s.ID == p.SessionID,
		}
	}), nil
}

func (r *Routes) endSession(ctx context.Context, in *sessionPath) (*struct{}, error) {
	p, err := authn.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	return nil, r.svc.EndSession(ctx, p.UserID, in.ID)
}

func jsonClient(ctx context.Context, ua string) authsvc.Client {
	return authsvc.Client{UserAgent: ua, IP: httpserver.ClientIP(ctx)}
}

// counted records a throttled request; platform/problem writes its 429
// and Retry-After.
func (r *Routes) counted(err error) error {
	if errors.Is(err, authsvc.ErrThrottled) {
		r.events.Throttled()
	}
	return err
}

// userAgent reads the caller's User-Agent for the session list without
// making it a parameter of the operation: the server reads it for its own
// bookkeeping, and a generated client should not ask its user for it.
type userAgent struct{ value string }

// Resolve implements huma.Resolver.
func (u *userAgent) Resolve(ctx huma.Context) []error {
	u.value = ctx.Header("User-Agent")
	return nil
}

type recoverIn struct {
	userAgent
	Body authschema.PasswordRecovery
}

type resetIn struct {
	userAgent
	Body authschema.ResetPassword
}

func (r *Routes) recover(ctx context.Context, in *recoverIn) (*acceptedOut, error) {
	if err := r.svc.RequestReset(ctx, in.Body.Email, jsonClient(ctx, in.value)); err != nil {
		return nil, r.counted(err)
	}
	return &acceptedOut{Body: authschema.Accepted{Message: "If the address belongs to an account, a reset email is on its way."}}, nil
}

func (r *Routes) resetPassword(ctx context.Context, in *resetIn) (*struct{}, error) {
	if err := r.svc.ResetPassword(ctx, in.Body.Token, in.Body.NewPassword, jsonClient(ctx, in.value)); err != nil {
		return nil, r.counted(err)
	}
	return nil, nil
}
