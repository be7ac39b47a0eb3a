package fxgraph

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// TestPageLoadsOnlyItsOwnAssets: the page has no inline script or style
// (its CSP allows scripts from 'self' only), every script and style it
// references is served with its type and a long cache, under a URL that
// changes with its content; anything else under assets/ is a 404.
func TestPageLoadsOnlyItsOwnAssets(t *testing.T) {
	h, err := Handler(tenModules(), PagePath)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	type response struct {
		status int
		header http.Header
	}
	get := func(path string) (response, string) {
		t.Helper()
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return response{res.StatusCode, res.Header}, string(b)
	}
	res, page := get(PagePath)
	csp := res.header.Get("Content-Security-Policy")
	if res.status != http.StatusOK || !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe") || !strings.Contains(csp, "default-src 'none'") {
		t.Fatalf("page: %d, CSP %q", res.status, csp)
	}
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			attrs := map[string]string{}
			for _, a := range n.Attr {
				attrs[a.Key] = a.Val
			}
			switch {
			case n.Data == "script" && attrs["src"] != "":
				refs = append(refs, attrs["src"])
			case n.Data == "script" && attrs["type"] != "application/json":
				t.Errorf("an inline script: %v", attrs)
			case n.Data == "style":
				t.Error("an inline style element")
			case n.Data == "link" && attrs["rel"] == "stylesheet":
				refs = append(refs, attrs["href"])
			}
			if _, ok := attrs["style"]; ok {
				t.Errorf("a style attribute on <%s>", n.Data)
			}
			for k := range attrs {
				if strings.HasPrefix(k, "on") {
					t.Errorf("an inline handler %s on <%s>", k, n.Data)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if len(refs) != 4 { // cytoscape, cytoscape-dagre, graph.js, graph.css
		t.Fatalf("assets %v, want 4", refs)
	}
	hashed := regexp.MustCompile(`^` + PagePath + `/assets/[a-z.-]+\.[0-9a-f]{10}\.(js|css)$`)
	for _, ref := range refs {
		if !hashed.MatchString(ref) {
			t.Errorf("%s: not a content-hashed asset URL", ref)
		}
		res, body := get(ref)
		wantType := "text/css; charset=utf-8"
		if strings.HasSuffix(ref, ".js") {
			wantType = "text/javascript; charset=utf-8"
		}
		if res.status != http.StatusOK || res.header.Get("Cache-Control") != "public, max-age=31536000, immutable" ||
			res.header.Get("Content-Type") != wantType || res.header.Get("X-Content-Type-Options") != "nosniff" || len(body) == 0 {
			t.Errorf("%s: %d %q %q, %d bytes", ref, res.status, res.header.Get("Content-Type"), res.header.Get("Cache-Control"), len(body))
		}
	}
	for _, path := range []string{PagePath + "/assets/graph.js", PagePath + "/assets/../page.go", PagePath + "/assets/", PagePath + "/nope"} {
		if res, _ := get(path); res.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, res.status)
		}
	}
}

// A hostile name in the graph (a constructor that closes the script) stays
// data: the page decodes it back unchanged and gains no element.
func TestPageDataCannotCloseItsScript(t *testing.T) {
	g := tenModules()
	evil := `</script><script>alert(1)</script><!--`
	g.Providers[3].Constructor = evil
	s, err := NewSite(g, PagePath)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := s.Page()
	if n := strings.Count(string(page), "<script"); n != 4 {
		t.Fatalf("%d script elements, want 4 (the data and three files)", n)
	}
	_, rest, _ := strings.Cut(string(page), `<script id="graph-data" type="application/json">`)
	data, _, _ := strings.Cut(rest, "</script>")
	var got pageData
	if err := json.Unmarshal([]byte(data), &got); err != nil {
		t.Fatalf("data block: %v", err)
	}
	if got.Graph.Providers[3].Constructor != evil || len(got.View.Nodes) != 15 {
		t.Errorf("decoded %q and %d nodes", got.Graph.Providers[3].Constructor, len(got.View.Nodes))
	}
}
