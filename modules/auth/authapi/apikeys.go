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
	"github.com/acme/monolith/platform/authz"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/httpserver"
)

// APIKeysPath is the caller's API keys.
const APIKeysPath = "/api/auth/api-keys" //nolint:gosec // a path, not a credential

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
	huma.Register(api, r.auth.ProtectSession(api, httpserver.WithErrors(authn.Recent(huma.Operation{
		OperationID: "create-api-key", Method: http.MethodPost, Path: APIKeysPath, Tags: []string{tag},
		DefaultStatus: http.StatusCreated,
		Summary:       "Create a personal API key (the secret is shown once)",
		Description: "The key holds at most the listed permissions, all of which you must hold now " +
			"(403 `api_key_permission_not_held` otherwise), and at each request only those you still hold.",
	}), authn.ErrReauthenticate, authsvc.ErrAPIKeyPermission, authsvc.ErrAPIKeyTTL.On("expires_in"), authsvc.ErrAPIKeyName.On("name"),
		authsvc.ErrUnknownPerm.On("permissions"))), r.createKey)
	r.registerServiceAccountKeys(api)
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

// permServiceAccounts is the users module's permission over service
// accounts (the auth module keeps their keys).
const permServiceAccounts = "service_accounts:write"

// ErrServiceAccountNotFound is an id that is no service account's.
var ErrServiceAccountNotFound = fault.New(fault.NotFound, "service_account_not_found", "Service account not found.")

type serviceAccountPath struct {
	ID uuid.UUID `path:"id" doc:"Service account id."`
}

type serviceKeyPath struct {
	ID    uuid.UUID `path:"id" doc:"Service account id."`
	KeyID uuid.UUID `path:"key_id" doc:"API key id."`
}

// registerServiceAccountKeys adds an administrator's management of a
// service account's keys: with a session (a key never mints keys), and
// a key holds at most what both the service account and the
// administrator hold.
func (r *Routes) registerServiceAccountKeys(api huma.API) {
	path := "/api/service-accounts/{id}/api-keys"
	huma.Register(api, r.auth.RequireSession(api, httpserver.WithErrors(authn.Recent(huma.Operation{
		OperationID: "create-service-account-api-key", Method: http.MethodPost, Path: path, Tags: []string{tag},
		DefaultStatus: http.StatusCreated,
		Summary:       "Create an API key for a service account (the secret is shown once)",
		Description: "The key holds at most the listed permissions, each held by the service account and by you " +
			"(403 `api_key_permission_not_held` otherwise), and at each request only those the service account still holds.",
	}), authn.ErrReauthenticate, ErrServiceAccountNotFound, authsvc.ErrAPIKeyPermission, authsvc.ErrAPIKeyTTL.On("expires_in"), authsvc.ErrAPIKeyName.On("name"),
		authsvc.ErrUnknownPerm.On("permissions")), permServiceAccounts), r.createServiceKey)
	huma.Register(api, r.auth.RequireSession(api, httpserver.WithErrors(huma.Operation{
		OperationID: "list-service-account-api-keys", Method: http.MethodGet, Path: path, Tags: []string{tag},
		Summary: "List a service account's live API keys (never their secrets)",
	}, ErrServiceAccountNotFound), permServiceAccounts), r.listServiceKeys)
	huma.Register(api, r.auth.RequireSession(api, httpserver.WithErrors(huma.Operation{
		OperationID: "revoke-service-account-api-key", Method: http.MethodDelete, Path: path + "/{key_id}", Tags: []string{tag},
		DefaultStatus: http.StatusNoContent,
		Summary:       "Revoke a service account's API key (the next request with it fails)",
	}, ErrServiceAccountNotFound, authsvc.ErrAPIKeyNotFound), permServiceAccounts), r.revokeServiceKey)
}

// serviceAccount is the service account id names; any other account is
// not found, so this path never reaches a person's keys.
func (r *Routes) serviceAccount(ctx context.Context, id uuid.UUID) (authn.Account, error) {
	a, err := r.accounts.Account(ctx, id)
	if fe, ok := fault.As(err); ok && fe.Kind == fault.NotFound {
		return authn.Account{}, ErrServiceAccountNotFound
	}
	if err != nil {
		return authn.Account{}, err
	}
	if !a.IsService() {
		return authn.Account{}, ErrServiceAccountNotFound
	}
	return a, nil
}

type serviceKeyIn struct {
	ID   uuid.UUID `path:"id" doc:"Service account id."`
	Body authschema.NewAPIKey
}

func (r *Routes) createServiceKey(ctx context.Context, in *serviceKeyIn) (*createdKeyOut, error) {
	p, err := authn.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	sa, err := r.serviceAccount(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	c, err := r.apiKeys.Create(ctx, sa.UserID, authz.Intersect(sa.Permissions, p.Permissions), authsvc.NewAPIKey{
		Name: in.Body.Name, Permissions: in.Body.Permissions, Service: true,
		TTL: time.Duration(min(in.Body.ExpiresIn, maxSeconds)) * time.Second,
	})
	if err != nil {
		return nil, err
	}
	return &createdKeyOut{CacheControl: "no-store", Body: authschema.CreatedAPIKey{APIKey: keyDTO(c.APIKey), Secret: c.Secret}}, nil
}

func (r *Routes) listServiceKeys(ctx context.Context, in *serviceAccountPath) (*keysOut, error) {
	sa, err := r.serviceAccount(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return r.keysOf(ctx, sa.UserID)
}

func (r *Routes) revokeServiceKey(ctx context.Context, in *serviceKeyPath) (*struct{}, error) {
	sa, err := r.serviceAccount(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return nil, r.apiKeys.Revoke(ctx, sa.UserID, in.KeyID)
}

func (r *Routes) keysOf(ctx context.Context, owner uuid.UUID) (*keysOut, error) {
	keys, err := r.apiKeys.List(ctx, owner)
	if err != nil {
		return nil, err
	}
	out := &keysOut{Body: authschema.APIKeys{Items: make([]authschema.APIKey, len(keys))}}
	for i, k := range keys {
		out.Body.Items[i] = keyDTO(k)
	}
	return out, nil
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
	return r.keysOf(ctx, p.UserID)
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
