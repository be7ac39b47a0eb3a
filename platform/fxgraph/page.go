package fxgraph

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"go.uber.org/fx"

	"github.com/acme/monolith/platform/buildinfo"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/httpserver"
)

// The page is laid out in the browser by Cytoscape.js with the dagre
// layered layout, bundled here (assets/vendor, refreshed from npm by `make
// graph-assets` at the versions of assets/package-lock.json), so it works
// offline. Our own script and styles are files too: the page has no inline
// code, and its CSP allows scripts from 'self' only.

//go:embed page.html
var pageHTML string

//go:embed assets/graph.js assets/graph.css assets/vendor/*.js assets/vendor/*.LICENSE
var assetFiles embed.FS

var pageTmpl = template.Must(template.New("page").Parse(pageHTML))

// PagePath is where Debug serves the page; its assets are under
// PagePath/assets/.
const PagePath = "/debug/graph"

// cytoscapeStyle is the one style element Cytoscape.js adds to the page
// (the positioning of its container); the CSP allows exactly it, by hash.
const cytoscapeStyle = ".__________cytoscape_container { position: relative; }"

// assetCache: the URL of an asset carries a hash of its content, so a
// browser may keep it for good and a new binary's asset is a new URL.
const assetCache = "public, max-age=31536000, immutable"

var errNoAsset = fault.New(fault.NotFound, "graph_asset_not_found", "The graph page has no such asset.")

type asset struct {
	file        string // the URL's last segment: name.<hash>.ext
	contentType string
	body        []byte
}

// loadAssets reads the embedded assets once, on the first page built, so
// that a binary that never serves the page never hashes them.
var loadAssets = sync.OnceValues(func() (map[string]*asset, error) {
	byName := map[string]*asset{}
	for _, pattern := range []string{"assets/*.js", "assets/*.css", "assets/vendor/*"} {
		names, err := assetFiles.ReadDir(path.Dir(pattern))
		if err != nil {
			return nil, fmt.Errorf("graph assets: %w", err)
		}
		for _, e := range names {
			if e.IsDir() {
				continue
			}
			name := strings.TrimPrefix(path.Join(path.Dir(pattern), e.Name()), "assets/")
			body, err := assetFiles.ReadFile("assets/" + name)
			if err != nil {
				return nil, fmt.Errorf("graph assets: %w", err)
			}
			sum := sha256.Sum256(body)
			base := path.Base(name)
			ext := path.Ext(base)
			byName[name] = &asset{
				file:        strings.TrimSuffix(base, ext) + "." + hex.EncodeToString(sum[:5]) + ext,
				contentType: contentTypeOf(ext),
				body:        body,
			}
		}
	}
	return byName, nil
})

func contentTypeOf(ext string) string {
	switch ext {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	default:
		return "text/plain; charset=utf-8"
	}
}

// Site is the page of one graph and its assets, ready to serve from any
// binary: as an http.Handler (Handler) or as routes of the API (Debug).
type Site struct {
	page   []byte
	csp    string
	assets map[string]*asset // by URL file
}

// pageData is what the page's script reads: the graph for the details, the
// module view for the picture.
type pageData struct {
	Graph *Graph `json:"graph"`
	View  View   `json:"view"`
}

// NewSite renders the page of g, whose assets are served under base/assets/
// (base is the page's own path).
func NewSite(g *Graph, base string) (*Site, error) {
	byName, err := loadAssets()
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(pageData{Graph: g, View: ModuleView(g)})
	if err != nil {
		return nil, fmt.Errorf("graph page data: %w", err)
	}
	s := &Site{assets: map[string]*asset{}}
	urls := map[string]string{}
	for name, a := range byName {
		s.assets[a.file] = a
		urls[name] = base + "/assets/" + a.file
	}
	var buf bytes.Buffer
	// template.JS keeps the JSON as is; json.Marshal escapes <, > and &, so
	// it cannot close the data element.
	if err := pageTmpl.Execute(&buf, struct {
		Service string
		Assets  map[string]string
		Data    template.JS
	}{buildinfo.Service, urls, template.JS(data)}); err != nil { // #nosec G203 -- JSON from json.Marshal, HTML-escaped
		return nil, fmt.Errorf("graph page: %w", err)
	}
	s.page = buf.Bytes()
	sum := sha256.Sum256([]byte(cytoscapeStyle))
	s.csp = "default-src 'none'; script-src 'self'; style-src 'self' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
	return s, nil
}

// Page is the HTML document and its Content-Security-Policy.
func (s *Site) Page() (body []byte, csp string) { return s.page, s.csp }

// asset is the asset whose URL ends in file.
func (s *Site) asset(file string) (*asset, error) {
	if a := s.assets[file]; a != nil {
		return a, nil
	}
	return nil, errNoAsset
}

// Handler serves the page of g at base and its assets under base/assets/,
// for a binary that has no API of its own.
func Handler(g *Graph, base string) (http.Handler, error) {
	s, err := NewSite(g, base)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+base, func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", s.csp)
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(s.page)
	})
	mux.HandleFunc("GET "+base+"/assets/{file}", func(w http.ResponseWriter, r *http.Request) {
		a, err := s.asset(r.PathValue("file"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		h := w.Header()
		h.Set("Content-Type", a.contentType)
		h.Set("Cache-Control", assetCache)
		h.Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(a.body)
	})
	return mux, nil
}

// Debug serves the page at PagePath, unless production is true: it joins
// the routes group only in development, so production answers 404. app
// returns the application's options; the graph is built from them on the
// first request (building it while the application itself is being built
// would recurse).
func Debug(production bool, app func() fx.Option) fx.Option {
	if production {
		return fx.Options()
	}
	return fx.Provide(httpserver.AsRoutes(func() *DebugRoutes { return &DebugRoutes{app: app} }))
}

// DebugRoutes serves the page and its assets.
type DebugRoutes struct {
	app  func() fx.Option
	once sync.Once
	site *Site
	err  error
}

func (d *DebugRoutes) load() (*Site, error) {
	d.once.Do(func() {
		g, err := Collect(d.app())
		if err != nil {
			d.err = fmt.Errorf("build the graph: %w", err)
			return
		}
		d.site, d.err = NewSite(g, PagePath)
	})
	return d.site, d.err
}

type fileOut struct {
	ContentType  string `header:"Content-Type"`
	CSP          string `header:"Content-Security-Policy"`
	CacheControl string `header:"Cache-Control"`
	Body         []byte
}

type assetOut struct {
	ContentType  string `header:"Content-Type"`
	CacheControl string `header:"Cache-Control"`
	Body         []byte
}

type assetIn struct {
	File string `path:"file" maxLength:"200"`
}

// Register implements httpserver.Routes.
func (d *DebugRoutes) Register(api huma.API) {
	huma.Register(api, huma.Operation{
		OperationID: "debug-graph", Method: http.MethodGet, Path: PagePath, Hidden: true,
		Summary: "The module graph, interactive (development only)",
	}, func(context.Context, *struct{}) (*fileOut, error) {
		s, err := d.load()
		if err != nil {
			return nil, err
		}
		return &fileOut{ContentType: "text/html; charset=utf-8", CSP: s.csp, CacheControl: "no-store", Body: s.page}, nil
	})
	huma.Register(api, huma.Operation{
		OperationID: "debug-graph-asset", Method: http.MethodGet, Path: PagePath + "/assets/{file}", Hidden: true,
		Summary: "A script, style or license of the graph page (development only)",
	}, func(_ context.Context, in *assetIn) (*assetOut, error) {
		s, err := d.load()
		if err != nil {
			return nil, err
		}
		a, err := s.asset(in.File)
		if err != nil {
			return nil, err
		}
		// The API's default CSP (nothing may load) suits a script or a style.
		return &assetOut{ContentType: a.contentType, CacheControl: assetCache, Body: a.body}, nil
	})
}
