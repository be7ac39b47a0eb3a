package httpserver

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// noStore is the Cache-Control of every response that did not choose its
// own policy: API responses carry personal data (ASVS 5.0 V14.3.2), and a
// shared cache or a browser must keep none of them.
const noStore = "no-store"

// publicDocs is the policy of the documents anyone may cache: the docs page
// and the OpenAPI document (the JWKS sets its own in the auth module, the
// docs assets theirs in mountDocs).
const publicDocs = "public, max-age=60"

// defaultNoStore makes no-store the default: a handler that wants caching
// sets Cache-Control itself. An error is never cached, whatever the
// handler had set before failing.
func defaultNoStore() fiber.Handler {
	return func(c *fiber.Ctx) error {
		err := c.Next()
		h := &c.Response().Header
		switch {
		case err != nil || c.Response().StatusCode() >= 400:
			h.Set(fiber.HeaderCacheControl, noStore)
		case len(h.Peek(fiber.HeaderCacheControl)) > 0:
		case isPublicDocument(c.Path()):
			h.Set(fiber.HeaderCacheControl, publicDocs)
		default:
			h.Set(fiber.HeaderCacheControl, noStore)
		}
		return err
	}
}

// isPublicDocument: the docs page, its script and the OpenAPI document
// in every format huma serves (/openapi.json, /openapi.yaml,
// /openapi-3.0.json...).
func isPublicDocument(path string) bool {
	return path == "/docs" || path == "/docs/init.js" || strings.HasPrefix(path, "/openapi.") || strings.HasPrefix(path, "/openapi-")
}
