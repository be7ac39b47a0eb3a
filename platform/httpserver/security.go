package httpserver

import (
	"encoding/json"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/cors"

	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/problem"
)

// API responses are JSON: they may load nothing and never be framed.
const apiCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"

// The docs page loads only its own embedded assets (Swagger UI sets inline
// style attributes, hence 'unsafe-inline' for styles only, never scripts).
const docsCSP = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

// securityHeaders sets the OWASP secure-headers baseline on every response
// (ASVS 5.0 §3.4); HSTS only in production, where TLS is certain.
func securityHeaders(hsts bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		setSecurityHeaders(c, hsts)
		return c.Next()
	}
}

// setSecurityHeaders is securityHeaders' work, shared with the responses
// written before any middleware runs (requests fasthttp could not parse).
func setSecurityHeaders(c *fiber.Ctx, hsts bool) {
	for _, h := range baseSecurityHeaders {
		c.Set(h[0], h[1])
	}
	if p := c.Path(); p == "/docs" || strings.HasPrefix(p, "/docs/") {
		c.Set(fiber.HeaderContentSecurityPolicy, docsCSP)
	} else {
		c.Set(fiber.HeaderContentSecurityPolicy, apiCSP)
	}
	if hsts {
		c.Set(fiber.HeaderStrictTransportSecurity, hstsValue)
	}
}

const hstsValue = "max-age=63072000; includeSubDomains"

// baseSecurityHeaders are the headers every response carries whatever its
// path (the CSP depends on it, HSTS on the environment).
var baseSecurityHeaders = [][2]string{
	{fiber.HeaderXContentTypeOptions, "nosniff"},
	{fiber.HeaderXFrameOptions, "DENY"},
	{fiber.HeaderReferrerPolicy, "no-referrer"},
	{"Cross-Origin-Opener-Policy", "same-origin"},
}

// queryCredentialParams are never accepted in a URL: URLs end up in logs,
// proxies and browser histories (RFC 6750 §2.3 is deliberately unsupported,
// RFC 9700 §4.3.2).
var queryCredentialParams = []string{"access_token", "refresh_token", "password", "api_key", "apikey"}

// writeOAuthError answers an OAuth endpoint in RFC 6749 §5.2 form, for
// refusals made at the edge before the auth module's handler runs.
func writeOAuthError(c *fiber.Ctx, status int, description string) error {
	b, _ := json.Marshal(map[string]string{"error": "invalid_request", "error_description": description})
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(status).Send(b)
}

var codeCredentialsInURL = problem.Declare(fiber.StatusBadRequest, "credentials_in_url",
	"Credentials are not accepted in the URL; send them in the Authorization header or the request body.")

// refuseQueryCredentials leaves the OAuth endpoints alone: they refuse
// URL parameters themselves, with an RFC 6749 §5.2 error rather than
// problem JSON, because OAuth2 clients parse that shape.
func refuseQueryCredentials(oauth map[string]bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if oauth[c.Path()] {
			return c.Next()
		}
		args := c.Request().URI().QueryArgs()
		for _, k := range queryCredentialParams {
			if args.Has(k) {
				return codeCredentialsInURL.New()
			}
		}
		return c.Next()
	}
}

// corsFor allows the configured browser origins; none by default. Config
// validation refuses a wildcard together with credentials.
func corsFor(s config.Sessions) fiber.Handler {
	if len(s.CORSOrigins) == 0 {
		return nil
	}
	return cors.New(cors.Config{
		AllowOrigins:     strings.Join(s.CORSOrigins, ","),
		AllowCredentials: s.CORSCredentials,
		AllowMethods:     "GET,POST,PATCH,DELETE",
		AllowHeaders:     "Authorization,Content-Type,X-Request-ID",
		ExposeHeaders:    "Retry-After,X-Request-ID,WWW-Authenticate",
		MaxAge:           600,
	})
}
