package httpserver_test

import (
	"testing"

	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/httpserver"
)

// TestSecuritySchemeComesFromTheOAuthModule: the platform names no token
// endpoint; the document advertises the password flow only at the URL a
// module provides, and a plain bearer token without one.
func TestSecuritySchemeComesFromTheOAuthModule(t *testing.T) {
	bare := httpserver.APIConfig(httpserver.OAuth{}).Components.SecuritySchemes[authn.SecurityScheme]
	if bare.Type != "http" || bare.Scheme != "bearer" || bare.Flows != nil {
		t.Fatalf("without an OAuth module: %+v", bare)
	}
	s := httpserver.APIConfig(httpserver.OAuth{TokenURL: "/api/things/token"}).Components.SecuritySchemes[authn.SecurityScheme]
	if s.Type != "oauth2" || s.Flows == nil || s.Flows.Password.TokenURL != "/api/things/token" {
		t.Fatalf("with a token endpoint: %+v", s)
	}
}
