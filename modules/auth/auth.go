// Package auth is the auth module: the OAuth2 token endpoint and the JWT
// access tokens behind every protected route. Module is its only fx wiring.
package auth

import (
	"go.uber.org/fx"

	"github.com/acme/monolith/modules/auth/authapi"
	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/httpserver"
)

// Module provides the token service, the platform's TokenVerifier and the
// token endpoint.
var Module = fx.Module("auth",
	fx.Provide(
		fx.Private,
		newSigningKey,
		// The account directory (the users module) satisfies this module's
		// own Users interface.
		func(d authn.Directory) authsvc.Users { return d },
	),
	fx.Provide(
		newTokens,
		func(t *authsvc.Tokens) authn.TokenVerifier { return t },
		authsvc.New,
		httpserver.AsRoutes(authapi.New),
	),
)

func newSigningKey(cfg config.Config) (*authsvc.SigningKey, error) {
	return authsvc.LoadSigningKey(authsvc.KeySource{
		PEM:      cfg.Auth.PrivateKeyPEM,
		File:     cfg.Auth.PrivateKeyFile,
		Generate: !cfg.IsProduction(),
	})
}

func newTokens(cfg config.Auth, key *authsvc.SigningKey) *authsvc.Tokens {
	return authsvc.NewTokens(authsvc.TokenConfig{
		Issuer: cfg.Issuer, Audience: cfg.Audience, TTL: cfg.AccessTokenTTL,
	}, key)
}
