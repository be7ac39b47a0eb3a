package httpserver

import (
	"html"
	"net/http"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	swaggerfiles "github.com/swaggo/files/v2"

	"github.com/acme/monolith/platform/buildinfo"
)

// docsPage loads Swagger UI from /docs/assets (embedded in the binary via
// github.com/swaggo/files), so the interactive docs work without internet.
// "Authorize" runs the OAuth2 password flow against the token endpoint.
var docsPage = `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>` + html.EscapeString(buildinfo.Title()) + ` API docs</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
  <link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/init.js"></script>
</body>
</html>
`

// docsInit is a separate script, not inline, so a strict CSP can forbid
// inline scripts.
const docsInit = `window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  persistAuthorization: false,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  oauth2RedirectUrl: window.location.origin + "/docs/assets/oauth2-redirect.html"
});
`

func mountDocs(app *fiber.App) {
	app.Get("/docs", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.SendString(docsPage)
	})
	app.Get("/docs/init.js", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "text/javascript; charset=utf-8")
		return c.SendString(docsInit)
	})
	app.Use("/docs/assets", filesystem.New(filesystem.Config{
		Root:   http.FS(swaggerfiles.FS),
		MaxAge: 3600,
	}))
}
