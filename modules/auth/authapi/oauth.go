package authapi

import "github.com/acme/monolith/platform/httpserver"

// The module's OAuth2 endpoints: the token endpoint (RFC 6749 §3.2) and
// token revocation (RFC 7009).
const (
	TokenPath  = "/api/auth/login" //nolint:gosec // a path, not a credential
	RevokePath = "/api/auth/revoke"
)

// OAuth tells the HTTP server which endpoints are OAuth2's: the document
// advertises the token endpoint, and the edge answers both in RFC 6749
// §5.2 form.
func OAuth() httpserver.OAuth {
	return httpserver.OAuth{TokenURL: TokenPath, Endpoints: []string{TokenPath, RevokePath}}
}
