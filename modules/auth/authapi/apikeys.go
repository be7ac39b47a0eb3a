package authapi

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/acme/monolith/modules/auth/authschema"
	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/httpserver"
)

// APIKeysPath is the caller's API keys.
const APIKeysPath = "/api/auth/api-keys"

type apiKeyPath struct {
	ID uuid.UUID `path:"id" doc:"API key id."`
}

type createdKeyOut struct {
	CacheControl string `header:"Cache-Control"`
	Body         authschema.CreatedAPIKey
}

type keysOut struct {
	Body authschema.APIKeys
}

// registerAPIKeys adds key management. Every operation needs a session:
// a leaked key must not mint keys, list them or outlive its revocation
// by revoking its siblings' revocations.
func (r *Routes) registerAPIKeys(api huma.API) {
	huma.Register(api, r.auth.ProtectSession(api, httpserver.WithErrors(huma.Operation{
		OperationID: "create-api-key", Method: http.MethodPost, Path: APIKeysPath, Tags: []string{tag},
		DefaultStatus: http.StatusCreated,
		Summary:       "Create a personal API key (the secret is shown once)",
		Description: "The key holds at most the listed permissions, all of which you must hold now " +
			"(403 `api_key_permission_not_held` otherwise), and at each request only those you still hold.",
	}, authsvc.ErrAPIKeyPermission, authsvc.ErrAPIKeyTTL.On("expires_in"), authsvc.ErrAPIKeyName.On("name"),
		authsvc.ErrUnknownPerm.On("permissions"))), r.createKey)
	huma.Register(api, r.auth.ProtectSession(api, huma.Operation{
		OperationID: "list-api-keys", Method: http.MethodGet, Path: APIKeysPath, Tags: []string{tag},
		Summary: "List your live API keys, newest first (never their secrets)",
	}), r.listKeys)
	huma.Register(api, r.auth.ProtectSession(api, httpserver.WithErrors(huma.Operation{
		OperationID: "revoke-api-key", Method: http.MethodDelete, Path: APIKeysPath + "/{id}", Tags: []string{tag},
		DefaultStatus: http.StatusNoContent,
		Summary:       "Revoke one of your API keys (the next request with it fails, on every replica)",
	}, authsvc.ErrAPIKeyNotFound)), r.revokeKey)
}

func (r *Routes) createKey(ctx context.Context, in *struct{ Body authschema.NewAPIKey }) (*createdKeyOut, error) {
	p, err := authn.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	c, err := r.apiKeys.Create(ctx, p.UserID, p.Permissions, authsvc.NewAPIKey{
		Name: in.Body.Name, Permissions: in.Body.Permissions, TTL: time.Duration(min(in.Body.ExpiresIn, maxSeconds)) * time.Second,
	})
	if err != nil {
		return nil, err
	}
	return &createdKeyOut{CacheControl: "no-store", Body: authschema.CreatedAPIKey{APIKey: keyDTO(c.APIKey), Secret: c.Secret}}, nil
}

// maxSeconds keeps a huge expires_in from overflowing a Duration; the
// service then refuses it as over the maximum.
const maxSeconds = int64(1<<63-1) / int64(time.Second)

func (r *Routes) listKeys(ctx context.Context, _ *struct{}) (*keysOut, error) {
	p, err := authn.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := r.apiKeys.List(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	out := &keysOut{Body: authschema.APIKeys{Items: make([]authschema.APIKey, len(keys))}}
	for i, k := range keys {
		out.Body.Items[i] = keyDTO(k)
	}
	return out, nil
}

func (r *Routes) revokeKey(ctx context.Context, in *apiKeyPath) (*struct{}, error) {
	p, err := authn.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	return nil, r.apiKeys.Revoke(ctx, p.UserID, in.ID)
}

func keyDTO(k authsvc.APIKey) authschema.APIKey {
	perms := k.Permissions
	if perms == nil {
		perms = []string{}
	}
	return authschema.APIKey{
		ID: k.ID, Name: k.Name, Prefix: k.Hint, Permissions: perms,
		CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, ExpiresAt: k.ExpiresAt,
	}
}
