package httpserver_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/authz"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/health"
	"github.com/acme/monolith/platform/httpserver"
)

// TestSecuritySchemeComesFromTheOAuthModule: the platform names no token
// endpoint; the document advertises the password flow only at the URL a
// module provides, and a plain bearer token without one.
func TestSecuritySchemeComesFromTheOAuthModule(t *testing.T) {
	bare := httpserver.APIConfig(httpserver.OAuth{}, nil).Components.SecuritySchemes[authn.SecurityScheme]
	if bare.Type != "http" || bare.Scheme != "bearer" || bare.Flows != nil {
		t.Fatalf("without an OAuth module: %+v", bare)
	}
	perms, err := authz.New(authz.Permission{Name: "things:read", Description: "Read things"})
	if err != nil {
		t.Fatal(err)
	}
	s := httpserver.APIConfig(httpserver.OAuth{TokenURL: "/api/things/token"}, perms).Components.SecuritySchemes[authn.SecurityScheme]
	if s.Type != "oauth2" || s.Flows == nil || s.Flows.Password.TokenURL != "/api/things/token" {
		t.Fatalf("with a token endpoint: %+v", s)
	}
	// The flow lists every declared permission as a scope, described.
	if got := s.Flows.Password.Scopes; len(got) != 1 || got["things:read"] != "Read things" {
		t.Fatalf("scopes = %v", got)
	}
}

// requiring registers one operation that requires perm.
type requiring struct {
	auth *authn.Resolver
	perm string
}

func (r requiring) Register(api huma.API) {
	huma.Register(api, r.auth.Require(api, huma.Operation{OperationID: "things", Method: http.MethodGet, Path: "/api/things"}, r.perm),
		func(context.Context, *struct{}) (*struct{}, error) { return nil, nil })
}

// TestUndeclaredPermissionStopsTheStart: an operation requiring a
// permission no module declared is an error of the server's construction
// (so the application does not start), naming the operation and the
// permission; a declared one is fine (the control).
func TestUndeclaredPermissionStopsTheStart(t *testing.T) {
	perms, err := authz.New(authz.Permission{Name: "things:read", Description: "Read things"})
	if err != nil {
		t.Fatal(err)
	}
	build := func(perm string) error {
		_, err := httpserver.New(httpserver.Params{
			Config: config.HTTP{ShutdownTimeout: 1}, Log: zap.NewNop(), Health: health.NewRegistry(health.RegistryParams{}),
			Routes: []httpserver.Routes{requiring{auth: authn.NewResolver(nil, nil, 0), perm: perm}}, Permissions: perms,
		})
		return err
	}
	if err := build("things:read"); err != nil {
		t.Fatalf("declared: %v", err)
	}
	err = build("things:raed")
	if err == nil || !strings.Contains(err.Error(), `"things:raed"`) || !strings.Contains(err.Error(), "things (GET /api/things)") {
		t.Fatalf("undeclared: %v", err)
	}
}
