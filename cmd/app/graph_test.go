package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/fxgraph"
	"github.com/acme/monolith/platform/testkit"
)

// graphConfig is a fixed configuration, so the graph is the same on every
// machine (a bootstrapped superuser adds a hook, for instance).
func graphConfig(t *testing.T) config.Config {
	cfg := testkit.Config(t)
	cfg.Database.URL = "sqlite://" + filepath.Join(t.TempDir(), "graph.db")
	return cfg
}

func TestGraphFormats(t *testing.T) {
	env := baseEnv(t, testkit.NewDatabaseURL(t, dialect.SQLite))
	env["FIRST_SUPERUSER_EMAIL"], env["FIRST_SUPERUSER_PASSWORD"] = "root@example.test", "root passphrase"
	for _, level := range fxgraph.Levels {
		for _, format := range fxgraph.Formats {
			t.Run(format+"-"+level, func(t *testing.T) {
				out, err := run(t, env, "", "graph", "--format", format, "--level", level)
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				switch format {
				case "dot":
					want = []string{"digraph fx {", "*usersvc.Service"}
				case "svg":
					want = []string{"<svg", "</svg>", "usersvc.Service"}
				case "mermaid":
					want = []string{"flowchart LR", "usersvc.Service"}
				case "json":
					var g fxgraph.Graph
					if err := json.Unmarshal([]byte(out), &g); err != nil {
						t.Fatalf("not JSON: %v", err)
					}
					want = []string{`"constructor": "userapi.New"`}
				}
				if level == "module" && format != "json" {
					// Routes, hooks and the cross-module uses are in the picture.
					want = []string{"GET /api/users/me", "POST /api/auth/login", "OnStart+OnStop (httpserver.New)", "OnStart (users.bootstrapSuperuser)", "authn.Directory"}
				}
				for _, w := range want {
					if !strings.Contains(out, w) && !strings.Contains(out, htmlEscape(w)) {
						t.Errorf("%s/%s lacks %q:\n%.600s", format, level, w, out)
					}
				}
			})
		}
	}
	if _, err := run(t, env, "", "graph", "--format", "png"); err == nil || !strings.Contains(err.Error(), "use one of") {
		t.Fatalf("unknown format: %v", err)
	}
	if _, err := run(t, env, "", "graph", "--level", "package"); err == nil || !strings.Contains(err.Error(), "module or provider") {
		t.Fatalf("unknown level: %v", err)
	}
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "+", "&#43;").Replace(s)
}

// TestModuleGraph checks the module-level facts against what the modules
// declare: who consumes what from whom, which routes and hooks are whose.
func TestModuleGraph(t *testing.T) {
	g, err := fxgraph.Collect(appOptions(graphConfig(t)))
	if err != nil {
		t.Fatal(err)
	}
	uses := map[string]string{}
	for _, u := range g.Uses {
		uses[u.From+"->"+u.To] = strings.Join(u.Types, ",")
	}
	for edge, typ := range map[string]string{
		"auth->users":     "authn.Directory",      // auth's Users interface, satisfied by the users module
		"platform->auth":  "authn.TokenVerifier",  // the resolver verifies tokens with auth
		"users->platform": "*ent.Client",          // the users store
		"platform->users": "authn.Directory",      // the resolver finds accounts through users
		"users->auth":     "authn.SessionRevoker", // users ends sessions when credentials change
	} {
		if !strings.Contains(uses[edge], typ) {
			t.Errorf("edge %s = %q, want it to carry %s", edge, uses[edge], typ)
		}
	}
	// Control: an edge carries exactly what crosses it, not every type the
	// other module provides (users never sees auth's services or store).
	// users ends sessions and reset tokens through the two revokers.
	if got := uses["users->auth"]; got != "authn.ResetRevoker,authn.SessionRevoker" {
		t.Errorf("users consumes %q from auth, want only authn.ResetRevoker and authn.SessionRevoker", got)
	}
	// A value group is one collection, not a use of each member's module.
	for _, u := range g.Uses {
		for _, typ := range u.Types {
			if strings.Contains(typ, "[group=") {
				t.Errorf("use %s->%s carries the group member %s", u.From, u.To, typ)
			}
		}
	}
	byType := map[string]fxgraph.Group{}
	for _, gr := range g.Groups {
		byType[gr.Type] = gr
	}
	routes, ok := byType["httpserver.Routes[group=routes]"]
	if !ok || routes.Name != "routes" || len(routes.Members) != 2 || strings.Join(routes.Consumers, ",") != "platform" {
		t.Errorf("routes group = %+v (ok %v), want users' and auth's members, collected by platform", routes, ok)
	}
	owners := map[string]string{}
	for _, id := range routes.Members {
		for _, p := range g.Providers {
			if p.ID == id {
				owners[p.Module] = p.Constructor
			}
		}
	}
	if owners["users"] != "userapi.New" || owners["auth"] != "authapi.New" {
		t.Errorf("routes members by module = %v", owners)
	}
	if _, ok := byType["health.Check[group=health_checks]"]; !ok {
		t.Errorf("groups = %+v, want the health checks too", g.Groups)
	}

	mods := map[string]fxgraph.Module{}
	for _, m := range g.Modules {
		mods[m.Name] = m
	}
	routesOf := func(m string) string { b, _ := json.Marshal(mods[m].Routes); return string(b) }
	if !strings.Contains(routesOf("users"), `"/api/users/{id}"`) || strings.Contains(routesOf("users"), "/api/auth/login") {
		t.Errorf("users routes = %s", routesOf("users"))
	}
	if !strings.Contains(routesOf("auth"), `"/api/auth/login"`) {
		t.Errorf("auth routes = %s", routesOf("auth"))
	}
	// platform: the database, the throttle pruner, the tracer, the HTTP
	// server; users: the first-superuser bootstrap and draining account
	// notices on stop.
	if len(mods["platform"].Hooks) != 4 || len(mods["users"].Hooks) != 2 {
		t.Errorf("hooks: platform %+v, users %+v", mods["platform"].Hooks, mods["users"].Hooks)
	}
}

// TestDebugGraphOnlyInDevelopment: the page is served in development and
// is a 404 in production.
func TestDebugGraphOnlyInDevelopment(t *testing.T) {
	db := testkit.NewDB(t, dialect.SQLite)
	cfg := graphConfig(t)
	dev := testkit.Start(t, db, testkit.WithFx(debugGraph(cfg)))
	res := dev.Do(http.MethodGet, "/debug/graph", nil)
	if res.Status != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(res.Body), "userapi.New") {
		t.Fatalf("development: %d %s %.300s", res.Status, res.Header.Get("Content-Type"), res.Body)
	}
	if strings.Contains(string(res.Body), "http://") || strings.Contains(string(res.Body), "https://") {
		t.Error("the page references a URL: it must work offline")
	}
	cfg.Env = config.Production
	prod := testkit.Start(t, testkit.NewDB(t, dialect.SQLite), testkit.WithFx(debugGraph(cfg)))
	if res := prod.Do(http.MethodGet, "/debug/graph", nil); res.Status != http.StatusNotFound {
		t.Fatalf("production: %d", res.Status)
	}
}

// TestDebugGraphPageInChromium loads the page in headless Chromium: the
// script must build a node per provider and log nothing to the console.
// A deliberately broken copy of the page proves the check sees errors.
func TestDebugGraphPageInChromium(t *testing.T) {
	chromium := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is required in CI (apt-get install chromium)")
		}
		t.Skip("chromium not installed")
	}
	g, err := fxgraph.Collect(appOptions(graphConfig(t)))
	if err != nil {
		t.Fatal(err)
	}
	app := testkit.Start(t, testkit.NewDB(t, dialect.SQLite), testkit.WithFx(debugGraph(graphConfig(t))))

	dom, console := loadInChromium(t, chromium, app.URL+"/debug/graph")
	if console != "" {
		t.Errorf("console output:\n%s", console)
	}
	if !strings.Contains(dom, `data-ready="true"`) {
		t.Errorf("the page script did not finish:\n%.2000s", dom)
	}
	if n := strings.Count(dom, `<button type="button" class="node`); n != len(g.Providers) {
		t.Errorf("rendered %d nodes, want %d (one per provider)", n, len(g.Providers))
	}
	if n := strings.Count(dom, `<details class="module"`); n != len(g.Modules) {
		t.Errorf("rendered %d modules, want %d", n, len(g.Modules))
	}

	// Search and click, driven through the page's deep link: searching for
	// ent.Client hides unrelated nodes, and selecting *ent.Client shows its
	// constructor's module and the users store among its consumers.
	dom, console = loadInChromium(t, chromium, app.URL+"/debug/graph#q=ent.client&select=*ent.Client")
	if console != "" {
		t.Errorf("console output:\n%s", console)
	}
	hidden := strings.Count(dom, `class="node hidden"`) + strings.Count(dom, `class="node private hidden"`)
	if hidden == 0 || hidden >= len(g.Providers) || !strings.Contains(dom, `class="node hit`) {
		t.Errorf("search hid %d of %d nodes", hidden, len(g.Providers))
	}
	if !strings.Contains(dom, `<div>module: <strong>platform</strong>`) || !strings.Contains(dom, "users · userstore.New") {
		_, detail, _ := strings.Cut(dom, `id="detail"`)
		t.Errorf("the detail panel after a click:\n%.1500s", detail)
	}

	// Control: the same page with a script error is caught.
	page, err := fxgraph.Page(g)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(page), `"use strict";`, `"use strict"; noSuchFunction();`, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, broken)
	}))
	defer srv.Close()
	dom, console = loadInChromium(t, chromium, srv.URL)
	if !strings.Contains(console, "noSuchFunction") || strings.Contains(dom, `data-ready="true"`) {
		t.Fatalf("a broken page went unnoticed: console %q", console)
	}
}

var consoleLine = regexp.MustCompile(`(?m)^.*:CONSOLE[:(].*$`)

// loadInChromium returns the DOM after scripts ran and every console line.
func loadInChromium(t *testing.T, chromium, url string) (dom, console string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--user-data-dir="+t.TempDir(), "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000",
		"--dump-dom", url)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	return string(out), strings.Join(consoleLine.FindAllString(stderr.String(), -1), "\n")
}
