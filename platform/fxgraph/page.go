package fxgraph

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"go.uber.org/fx"

	"github.com/acme/monolith/platform/httpserver"
)

//go:embed page.html
var pageHTML string

var pageTmpl = template.Must(template.New("page").Parse(pageHTML))

// pageCSP lets a rendered page run its own inline script and style, by
// hash, and nothing else: the server's default policy for non-docs paths
// forbids inline code, which would leave the page blank. It hashes the
// rendered page because html/template drops comments from scripts.
func pageCSP(page string) string {
	return "default-src 'none'; script-src " + inlineHash(page, "<script>", "</script>") +
		"; style-src " + inlineHash(page, "<style>", "</style>") +
		"; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// inlineHash is the CSP source expression of the text between open and
// close (the page's one executable script or its one style element).
func inlineHash(page, open, close string) string {
	i := strings.Index(page, open)
	j := strings.Index(page[i+len(open):], close)
	if i < 0 || j < 0 {
		panic("fxgraph: page.html lost its " + open + " element")
	}
	sum := sha256.Sum256([]byte(page[i+len(open) : i+len(open)+j]))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// Page renders the interactive graph: one self-contained HTML document
// (inline script and styles, the graph inline as JSON), so it works
// offline and needs no CDN.
func Page(g *Graph) ([]byte, error) {
	data, err := json.Marshal(g)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	// template.JS keeps the JSON as is; json.Marshal already escapes <, >
	// and &, so it cannot close the script element.
	if err := pageTmpl.Execute(&buf, template.JS(data)); err != nil { // #nosec G203 -- JSON from json.Marshal, HTML-escaped
		return nil, err
	}
	return buf.Bytes(), nil
}

// Debug serves GET /debug/graph, unless production is true: it joins the
// routes group only in development, so production answers 404. app returns
// the application's options; the graph is built from them on the first
// request (building it while the application itself is being built would
// recurse).
func Debug(production bool, app func() fx.Option) fx.Option {
	if production {
		return fx.Options()
	}
	return fx.Provide(httpserver.AsRoutes(func() *DebugRoutes { return &DebugRoutes{app: app} }))
}

// DebugRoutes serves the page.
type DebugRoutes struct {
	app  func() fx.Option
	once sync.Once
	page []byte
	csp  string
	err  error
}

type pageOut struct {
	ContentType  string `header:"Content-Type"`
	CSP          string `header:"Content-Security-Policy"`
	CacheControl string `header:"Cache-Control"`
	Body         []byte
}

// Register implements httpserver.Routes.
func (d *DebugRoutes) Register(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "debug-graph", Method: http.MethodGet, Path: "/debug/graph", Hidden: true,
		Summary: "The dependency graph, interactive (development only)",
	}, func(context.Context, *struct{}) (*pageOut, error) {
		d.once.Do(func() {
			g, err := Collect(d.app())
			if err != nil {
				d.err = fmt.Errorf("build the graph: %w", err)
				return
			}
			d.page, d.err = Page(g)
			if d.err == nil {
				d.csp = pageCSP(string(d.page))
			}
		})
		if d.err != nil {
			return nil, d.err
		}
		return &pageOut{ContentType: "text/html; charset=utf-8", CSP: d.csp, CacheControl: "no-store", Body: d.page}, nil
	})
}
