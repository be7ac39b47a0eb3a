// Package authpages serves the small pages that links in the auth
// module's emails open, so a link works without a frontend of the team's
// own: plain HTML forms whose script calls the API. Each flow's link can
// point at a team's frontend instead (a URL template setting); then these
// pages are simply not visited.
package authpages

import (
	"context"
	"embed"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"github.com/acme/monolith/platform/authn"
)

// ResetPasswordPath is where the reset email's link leads by default; the
// token travels in the fragment (#token=...), which browsers never send to
// a server, so no access log or proxy sees it.
const ResetPasswordPath = "/reset-password"

// VerifyEmailPath and ConfirmEmailPath are where the verification and
// email-change links lead by default, the token in the fragment too.
const (
	VerifyEmailPath  = "/verify-email"
	ConfirmEmailPath = "/confirm-email"
)

// assetsPath serves the pages' script and style sheet.
const assetsPath = "/auth-pages"

//go:embed static
var static embed.FS

// csp lets a page load only its own script and style and talk only to
// its own origin: no inline code, nothing from elsewhere, never framed.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
	"form-action 'none'; base-uri 'none'; frame-ancestors 'none'"

// Routes serves the pages.
type Routes struct{}

// New returns the pages' routes.
func New() *Routes { return &Routes{} }

type pageOut struct {
	ContentType  string `header:"Content-Type"`
	CSP          string `header:"Content-Security-Policy"`
	CacheControl string `header:"Cache-Control"`
	Body         []byte
}

type assetIn struct {
	File string `path:"file" maxLength:"64"`
}

type assetOut struct {
	ContentType  string `header:"Content-Type"`
	CacheControl string `header:"Cache-Control"`
	Body         []byte
}

var assetTypes = map[string]string{
	"pages.js":  "text/javascript; charset=utf-8",
	"pages.css": "text/css; charset=utf-8",
}

var errNoAsset = huma.Error404NotFound("no such file")

// Register implements httpserver.Routes. The pages are not part of the
// API document: they are for people, not clients.
func (*Routes) Register(api huma.API) {
	for _, p := range []struct{ id, path, summary string }{
		{"reset-password-page", ResetPasswordPath, "The page the password-reset email links to"},
		{"verify-email-page", VerifyEmailPath, "The page the verification email links to"},
		{"confirm-email-page", ConfirmEmailPath, "The page the email-change confirmation links to"},
	} {
		page, err := static.ReadFile("static" + p.path + ".html")
		if err != nil {
			panic("authpages: embedded page missing: " + err.Error())
		}
		huma.Register(api, authn.Public(huma.Operation{
			OperationID: p.id, Method: http.MethodGet, Path: p.path, Hidden: true, Summary: p.summary,
		}), func(context.Context, *struct{}) (*pageOut, error) {
			return &pageOut{ContentType: "text/html; charset=utf-8", CSP: csp, CacheControl: "no-store", Body: page}, nil
		})
	}
	huma.Register(api, authn.Public(huma.Operation{
		OperationID: "auth-page-asset", Method: http.MethodGet, Path: assetsPath + "/{file}", Hidden: true,
		Summary: "The script or style sheet of the auth pages",
	}), func(_ context.Context, in *assetIn) (*assetOut, error) {
		ct, ok := assetTypes[in.File]
		if !ok {
			return nil, errNoAsset
		}
		b, err := static.ReadFile("static/" + in.File)
		if err != nil {
			return nil, errNoAsset
		}
		// Short-lived: a new release's script replaces the old within minutes.
		return &assetOut{ContentType: ct, CacheControl: "public, max-age=300", Body: b}, nil
	})
}
