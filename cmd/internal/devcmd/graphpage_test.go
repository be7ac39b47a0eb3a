package devcmd

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/chromedp/chromedp"
	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/cmd/internal/devcmd/internal/shop"
	"github.com/acme/monolith/platform"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/fxgraph"
	"github.com/acme/monolith/platform/testkit"
)

// TestDebugGraphOnlyInDevelopment: the page and its assets are served in
// development and are a 404 in production.
func TestDebugGraphOnlyInDevelopment(t *testing.T) {
	cfg := graphConfig(t)
	dev := apptest.Start(t, testkit.NewDB(t, dialect.SQLite), testkit.WithFx(debugGraph(cfg)))
	res := dev.Do(http.MethodGet, "/debug/graph", nil)
	if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("development: %d %s %.300s", res.Status, res.Header.Get("Content-Type"), res.Body)
	}
	if !strings.Contains(string(res.Body), "userapi.New") {
		t.Error("the page does not carry the graph")
	}
	assets := regexp.MustCompile(`(?:src|href)="(/debug/graph/assets/[^"]+)"`).FindAllStringSubmatch(string(res.Body), -1)
	if len(assets) == 0 {
		t.Fatal("the page references no asset")
	}
	for _, a := range assets {
		r := dev.Do(http.MethodGet, a[1], nil)
		if r.Status != http.StatusOK || !strings.Contains(r.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("%s: %d, Cache-Control %q", a[1], r.Status, r.Header.Get("Cache-Control"))
		}
	}
	if r := dev.Do(http.MethodGet, "/debug/graph/assets/nope.js", nil); r.Status != http.StatusNotFound ||
		!strings.Contains(string(r.Body), `"graph_asset_not_found"`) || r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("unknown asset: %d %s %q", r.Status, r.Body, r.Header.Get("Cache-Control"))
	}

	cfg.Env = config.Production
	prod := apptest.Start(t, testkit.NewDB(t, dialect.SQLite), testkit.WithFx(debugGraph(cfg)))
	for _, path := range []string{"/debug/graph", assets[0][1]} {
		if res := prod.Do(http.MethodGet, path, nil); res.Status != http.StatusNotFound {
			t.Errorf("production %s: %d", path, res.Status)
		}
	}
}

// TestDebugGraphFirstRequestsAtOnce: requests that arrive together before
// the graph exists build it once and all get the same page.
func TestDebugGraphFirstRequestsAtOnce(t *testing.T) {
	cfg := graphConfig(t)
	var builds atomic.Int32
	app := apptest.Start(t, testkit.NewDB(t, dialect.SQLite), testkit.WithFx(fxgraph.Debug(false, func() fx.Option {
		builds.Add(1)
		return appOptions(platform.WithConfig(cfg))
	})))
	const n = 24
	start := make(chan struct{})
	type result struct {
		status int
		body   string
		err    error
	}
	results := make(chan result, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			<-start
			res, err := app.HTTP.Get(app.URL + "/debug/graph")
			if err != nil {
				results <- result{err: err}
				return
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			results <- result{res.StatusCode, string(b), err}
		})
	}
	close(start)
	wg.Wait()
	close(results)
	var first string
	for r := range results {
		if r.err != nil || r.status != http.StatusOK {
			t.Fatalf("%d %v", r.status, r.err)
		}
		if first == "" {
			first = r.body
		}
		if r.body != first {
			t.Fatal("two requests got different pages")
		}
	}
	if got := builds.Load(); got != 1 {
		t.Errorf("the graph was built %d times, want once", got)
	}
}

// cyPicture is what Cytoscape drew: each module and group node, each arrow
// (a label node between two segments, or one quiet edge), read from
// window.cy after the layout.
type cyPicture struct {
	Zoom      float64  `json:"zoom"`
	Header    float64  `json:"header"`
	Graph     cyRect   `json:"graph"`
	WindowH   float64  `json:"windowH"`
	Nodes     []cyNode `json:"nodes"`
	Edges     []cyEdge `json:"edges"`
	FontSizes []string `json:"fontSizes"` // of a module, of an arrow's label
}

type cyRect struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	W float64 `json:"w"`
	H float64 `json:"h"`
}

type cyBox struct {
	X1 float64 `json:"x1"`
	Y1 float64 `json:"y1"`
	X2 float64 `json:"x2"`
	Y2 float64 `json:"y2"`
}

func (a cyBox) overlaps(b cyBox) bool {
	return a.X1 < b.X2 && b.X1 < a.X2 && a.Y1 < b.Y2 && b.Y1 < a.Y2
}

type cyNode struct {
	ID    string   `json:"id"`
	Kind  string   `json:"kind"`
	Label bool     `json:"label"` // an arrow's label
	Arrow string   `json:"arrow"`
	From  string   `json:"from"`
	To    string   `json:"to"`
	Types []string `json:"types"`
	Text  string   `json:"text"`
	Box   cyBox    `json:"box"`      // model coordinates
	Shown cyBox    `json:"rendered"` // in the graph element, in CSS pixels
}

type cyEdge struct {
	ID     string   `json:"id"`
	Arrow  string   `json:"arrow"`
	Source string   `json:"source"`
	Target string   `json:"target"`
	From   string   `json:"from"`
	To     string   `json:"to"`
	Quiet  bool     `json:"quiet"`
	Types  []string `json:"types"`
}

const readPicture = `(() => {
  const r = cy.container().getBoundingClientRect();
  const box = b => ({ x1: b.x1, y1: b.y1, x2: b.x2, y2: b.y2 });
  return {
    zoom: cy.zoom(),
    header: document.querySelector("header").getBoundingClientRect().height,
    graph: { x: r.x, y: r.y, w: r.width, h: r.height },
    windowH: window.innerHeight,
    nodes: cy.nodes().map(n => ({
      id: n.id(), kind: n.data("kind"), label: n.hasClass("label"), arrow: n.data("edge") || "",
      from: n.data("from") || "", to: n.data("to") || "", types: n.data("types") || [], text: n.data("label"),
      box: box(n.boundingBox({ includeLabels: false, includeOverlays: false })),
      rendered: box(n.renderedBoundingBox({ includeLabels: false, includeOverlays: false })) })),
    edges: cy.edges().map(e => ({
      id: e.id(), arrow: e.data("edge"), source: e.source().id(), target: e.target().id(),
      from: e.data("from"), to: e.data("to"), quiet: e.hasClass("quiet"), types: e.data("types") })),
    fontSizes: [cy.nodes(".module").not(".label"), cy.nodes(".label")].map(c => c.nonempty() ? c[0].style("font-size") : "0px"),
  };
})()`

// arrows are the arrows of a picture, "from>to" to their types.
func (p cyPicture) arrows() map[string][]string {
	out := map[string][]string{}
	for _, n := range p.Nodes {
		if n.Label {
			out[n.From+">"+n.To] = n.Types
		}
	}
	for _, e := range p.Edges {
		// Drawn without a label node: quiet arrows and publications.
		if e.Quiet || strings.HasPrefix(e.ID, "q|") {
			out[e.From+">"+e.To] = e.Types
		}
	}
	return out
}

// wantPicture is what the page must draw for g, derived from the collected
// graph alone: every module (fx's own root aside) and every value group is
// one node; an arrow per module that consumes another module's values
// (fx's own types aside), labelled with all of them; an arrow per
// consumer of a group, to the group.
func wantPicture(t *testing.T, g *fxgraph.Graph) (nodes map[string]string, arrows map[string][]string) {
	t.Helper()
	nodes, arrows = map[string]string{}, map[string][]string{}
	for _, m := range g.Modules {
		if m.Name == fxgraph.Root {
			// Here the root is fx alone (Lifecycle, Shutdowner, DotGraph).
			for _, p := range g.Providers {
				if p.Module == fxgraph.Root && slices.ContainsFunc(p.Outputs, func(o string) bool { return !strings.HasPrefix(o, "fx.") }) {
					t.Fatalf("the root provides %v: it must be drawn", p.Outputs)
				}
			}
			continue
		}
		nodes["m:"+m.Name] = "module"
	}
	for _, e := range g.Events {
		if !e.BetweenModules() {
			continue // listed with its module
		}
		nodes["e:"+e.Name] = "event"
		for _, m := range e.Publishers {
			arrows["m:"+m+">e:"+e.Name] = []string{e.Type}
		}
		for _, sub := range e.Subscribers {
			if !slices.Contains(e.Publishers, sub.Module) {
				arrows["e:"+e.Name+">m:"+sub.Module] = []string{sub.Subscription}
			}
		}
	}
	for _, gr := range g.Groups {
		if gr.Type == "events.Declaration[group=events]" {
			continue // drawn as the events it declares
		}
		nodes["g:"+gr.Type] = "group"
		for _, c := range gr.Consumers {
			arrows["m:"+c+">g:"+gr.Type] = []string{gr.Type}
		}
	}
	for _, u := range g.Uses {
		var types []string
		for _, typ := range u.Types {
			if !strings.HasPrefix(typ, "fx.") {
				types = append(types, typ)
			}
		}
		if len(types) > 0 {
			arrows["m:"+u.From+">m:"+u.To] = types
		}
	}
	return nodes, arrows
}

// checkPicture compares what Cytoscape drew with g and checks the layout:
// nothing overlaps, every segment ends on a node, all of it in the window.
func checkPicture(t *testing.T, g *fxgraph.Graph, p cyPicture) {
	t.Helper()
	wantNodes, wantArrows := wantPicture(t, g)
	got := map[string]string{}
	ids := map[string]bool{}
	for _, n := range p.Nodes {
		ids[n.ID] = true
		if n.Label {
			continue
		}
		if _, dup := got[n.ID]; dup {
			t.Errorf("node %s drawn twice", n.ID)
		}
		got[n.ID] = n.Kind
	}
	if fmt.Sprint(got) != fmt.Sprint(wantNodes) {
		t.Errorf("nodes drawn:\n  %v\nwant (modules and value groups of the graph):\n  %v", got, wantNodes)
	}
	arrows := p.arrows()
	if fmt.Sprint(arrows) != fmt.Sprint(wantArrows) {
		t.Errorf("arrows drawn:\n  %v\nwant:\n  %v", arrows, wantArrows)
	}
	for key, types := range arrows {
		if strings.Contains(key, ">m:") && slices.ContainsFunc(types, func(s string) bool { return strings.Contains(s, "[group=") }) {
			t.Errorf("arrow %s carries a group member: %v", key, types)
		}
	}
	for _, e := range p.Edges {
		if !ids[e.Source] || !ids[e.Target] {
			t.Errorf("segment %s from %s to %s ends outside the picture", e.ID, e.Source, e.Target)
		}
	}
	// Boxes, groups and labels never overlap; all are inside the graph
	// element once the page has fitted the picture.
	for i, a := range p.Nodes {
		if a.Shown.X1 < -1 || a.Shown.Y1 < -1 || a.Shown.X2 > p.Graph.W+1 || a.Shown.Y2 > p.Graph.H+1 {
			t.Errorf("%s at %+v is outside the %vx%v graph", a.ID, a.Shown, p.Graph.W, p.Graph.H)
		}
		for _, b := range p.Nodes[i+1:] {
			if a.Box.overlaps(b.Box) {
				t.Errorf("%s %+v and %s %+v overlap", a.ID, a.Box, b.ID, b.Box)
			}
		}
	}
}

// renderedFonts are the on-screen sizes of the modules' labels and of the
// arrows' labels, in CSS pixels.
func (p cyPicture) renderedFonts(t *testing.T) (module, arrow float64) {
	t.Helper()
	if len(p.FontSizes) != 2 {
		t.Fatalf("font sizes %q", p.FontSizes)
	}
	px := func(s string) float64 {
		f, err := strconv.ParseFloat(strings.TrimSuffix(s, "px"), 64)
		if err != nil {
			t.Fatalf("font-size %q: %v", s, err)
		}
		return f * p.Zoom
	}
	return px(p.FontSizes[0]), px(p.FontSizes[1])
}

// TestDebugGraphPageInChromium loads the real application's page in
// headless Chromium: Cytoscape draws the modules and arrows of the real
// module graph, a real click on a module shows its providers, routes and
// hooks, a click on the routes group its members, a search highlights who
// provides or consumes a type; the page logs nothing, requests nothing
// from elsewhere, and its header stays small at any window height.
func TestDebugGraphPageInChromium(t *testing.T) {
	testkit.ChromiumPath(t)
	cfg := graphConfig(t)
	g, err := fxgraph.Collect(appOptions(platform.WithConfig(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	app := apptest.Start(t, testkit.NewDB(t, dialect.SQLite), testkit.WithFx(debugGraph(cfg)))
	host := strings.TrimPrefix(app.URL, "http://")

	b := testkit.NewBrowser(t, 1280, 800)
	b.Open(app.URL + "/debug/graph")
	p := testkit.Eval[cyPicture](b, readPicture)
	checkPicture(t, g, p)

	// A real click at the centre of the users box.
	node := func(p cyPicture, id string) cyNode {
		for _, n := range p.Nodes {
			if n.ID == id {
				return n
			}
		}
		t.Fatalf("no node %s", id)
		return cyNode{}
	}
	click := func(id, title string) string {
		t.Helper()
		n := node(testkit.Eval[cyPicture](b, readPicture), id)
		x, y := p.Graph.X+(n.Shown.X1+n.Shown.X2)/2, p.Graph.Y+(n.Shown.Y1+n.Shown.Y2)/2
		b.Do(chromedp.MouseClickXY(x, y))
		shown := fmt.Sprintf(`document.getElementById("detail-title")?.textContent === %q`, title)
		if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](shown, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatalf("clicking %s at (%.0f,%.0f) did not show its details: %v", id, x, y, err)
		}
		return testkit.Eval[string](b, `document.getElementById("detail-body").innerText`)
	}
	users := click("m:users", "users")
	var want []string
	for _, m := range g.Modules {
		if m.Name != "users" {
			continue
		}
		for _, id := range m.Providers {
			for _, pr := range g.Providers {
				if pr.ID == id {
					want = append(want, pr.Constructor)
				}
			}
		}
		for _, r := range m.Routes {
			want = append(want, r.Method+" "+r.Path)
		}
		for _, h := range m.Hooks {
			want = append(want, "registered by "+h.RegisteredBy)
		}
	}
	want = append(want, "authn.Revoker", "Adds to value groups",
		// Its events, which stay within the module, are listed with it.
		"Publishes events", "account.deleted", "Subscribes to events", "account.email_changed as users.email_changed_notice")
	for _, w := range want {
		if !strings.Contains(users, w) {
			t.Errorf("users' details lack %q:\n%s", w, users)
		}
	}
	if !strings.Contains(users, "GET /api/users/me") || strings.Contains(users, "/api/auth/login") {
		t.Errorf("users' details show the wrong routes:\n%s", users)
	}
	routes := click("g:httpserver.Routes[group=routes]", "routes")
	for _, w := range []string{"users · userapi.New", "auth · authapi.New", "Collected by", "platform"} {
		if !strings.Contains(routes, w) {
			t.Errorf("the routes group's details lack %q:\n%s", w, routes)
		}
	}

	// A click on an arrow's label lists every type it carries.
	arrow := click("l|u:auth>users", "auth → users")
	for _, u := range g.Uses {
		if u.From == "auth" && u.To == "users" {
			for _, typ := range u.Types {
				if !strings.Contains(arrow, typ) {
					t.Errorf("the auth → users arrow's details lack %s:\n%s", typ, arrow)
				}
			}
		}
	}

	// Search by type: the modules that provide or consume *ent.Client.
	b.Do(chromedp.SendKeys("#search", "ent.Client"))
	hits := testkit.Eval[[]string](b, `cy.nodes(".hit").filter(n => !n.hasClass("label")).map(n => n.id()).sort()`)
	var wantHits []string
	for _, m := range g.Modules {
		for _, pr := range g.Providers {
			if pr.Module == m.Name && slices.ContainsFunc(append(slices.Clone(pr.Outputs), pr.Inputs...), func(s string) bool {
				return strings.Contains(strings.ToLower(s), "ent.client")
			}) {
				wantHits = append(wantHits, "m:"+m.Name)
				break
			}
		}
	}
	sort.Strings(wantHits)
	if strings.Join(hits, ",") != strings.Join(wantHits, ",") || len(hits) < 2 {
		t.Errorf("search ent.Client highlights %v, want %v", hits, wantHits)
	}

	// The header keeps its height however tall the window; the graph takes
	// the rest.
	for _, size := range [][2]int64{{1280, 2000}, {1280, 560}, {900, 1400}} {
		b.Do(chromedp.EmulateViewport(size[0], size[1]))
		p := testkit.Eval[cyPicture](b, readPicture)
		t.Logf("%dx%d: header %.0fpx, graph %.0fx%.0fpx", size[0], size[1], p.Header, p.Graph.W, p.Graph.H)
		if p.Header > 48 || p.Header < 20 || p.Graph.Y+p.Graph.H < p.WindowH-1 || p.Graph.H < p.WindowH-p.Header-1 {
			t.Errorf("%dx%d: header %.0fpx, graph from %.0f, %.0fpx tall, window %.0fpx", size[0], size[1], p.Header, p.Graph.Y, p.Graph.H, p.WindowH)
		}
	}

	if lines := b.Console(); len(lines) > 0 {
		t.Errorf("console:\n%s", strings.Join(lines, "\n"))
	}
	if off := b.OffHost(host); len(off) > 0 {
		t.Errorf("requests beyond %s: %v", host, off)
	}
}

// TestDebugGraphConsoleControl: the browser checks above see a CSP
// violation. The same page with an inline script added (which the page's
// CSP forbids) is served, and the violation must be reported.
func TestDebugGraphConsoleControl(t *testing.T) {
	testkit.ChromiumPath(t)
	g, err := fxgraph.Collect(appOptions(platform.WithConfig(graphConfig(t))))
	if err != nil {
		t.Fatal(err)
	}
	h, err := fxgraph.Handler(g, fxgraph.PagePath)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != fxgraph.PagePath {
			h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		_, _ = fmt.Fprint(w, strings.Replace(rec.Body.String(), "</body>", "<script>window.injected = true;</script></body>", 1))
	}))
	defer srv.Close()
	b := testkit.NewBrowser(t, 1024, 700)
	b.Open(srv.URL + fxgraph.PagePath)
	if testkit.Eval[bool](b, `window.injected === true`) {
		t.Error("an inline script ran despite the CSP")
	}
	if lines := strings.Join(b.Console(), "\n"); !strings.Contains(lines, "Content Security Policy") {
		t.Errorf("the CSP violation went unnoticed; console:\n%s", lines)
	}
}

// TestDebugGraphReadableWithTenModules draws the application with ten
// generated-like modules beside users, auth and audit: every module and group is
// one node, each group once however many modules add to it, nothing
// overlaps, and the whole picture fits a 1600x1000 window with labels
// still readable.
func TestDebugGraphReadableWithTenModules(t *testing.T) {
	testkit.ChromiumPath(t)
	cfg := graphConfig(t)
	ten := shop.TenModules()
	whole := func() fx.Option { return appOptions(append([]fx.Option{platform.WithConfig(cfg)}, ten...)...) }
	g, err := fxgraph.Collect(whole())
	if err != nil {
		t.Fatal(err)
	}
	app := apptest.Start(t, testkit.NewDB(t, dialect.SQLite),
		testkit.WithFx(append(slices.Clone(ten), fxgraph.Debug(false, whole))...))
	b := testkit.NewBrowser(t, 1600, 1000)
	b.Open(app.URL + "/debug/graph")
	p := testkit.Eval[cyPicture](b, readPicture)
	checkPicture(t, g, p)

	var groups []string
	for _, n := range p.Nodes {
		if n.Kind == "group" && !n.Label {
			groups = append(groups, n.Text)
		}
	}
	if !slices.Contains(groups, "routes\n14 from 13 modules") {
		t.Errorf("group nodes %q, want one routes node for the 13 modules' 14 routes (auth has its pages too)", groups)
	}
	toRoutes := 0
	for key := range p.arrows() {
		if strings.HasSuffix(key, ">g:httpserver.Routes[group=routes]") {
			toRoutes++
		}
	}
	if toRoutes != 1 {
		t.Errorf("%d arrows to the routes group, want 1 (the platform collecting it)", toRoutes)
	}
	// Fitted to the window, the picture stays legible: module names at 8.5
	// CSS pixels at least, arrow labels at 7.5 (drawn left to right, or
	// with an arrow per group member, they are not).
	module, arrow := p.renderedFonts(t)
	t.Logf("%d nodes and %d segments fitted at zoom %.2f: module labels %.1fpx, arrow labels %.1fpx on screen", len(p.Nodes), len(p.Edges), p.Zoom, module, arrow)
	if module < 8.5 || arrow < 7.5 {
		t.Errorf("module labels %.1fpx, arrow labels %.1fpx on screen (zoom %.2f): unreadable", module, arrow, p.Zoom)
	}
	if lines := b.Console(); len(lines) > 0 {
		t.Errorf("console:\n%s", strings.Join(lines, "\n"))
	}
	if u, _ := url.Parse(app.URL); len(b.OffHost(u.Host)) > 0 {
		t.Errorf("requests beyond %s: %v", u.Host, b.OffHost(u.Host))
	}
}
