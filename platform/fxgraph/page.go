package fxgraph

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"go.uber.org/fx"

	"github.com/acme/monolith/platform/httpserver"
)

//go:embed page.html
var pageHTML string

var pageTmpl = template.Must(template.New("page").Parse(pageHTML))

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
	err  error
}

type pageOut struct {
	ContentType  string `header:"Content-Type"`
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
		})
		if d.err != nil {
			return nil, d.err
		}
		return &pageOut{ContentType: "text/html; charset=utf-8", CacheControl: "no-store", Body: d.page}, nil
	})
}
