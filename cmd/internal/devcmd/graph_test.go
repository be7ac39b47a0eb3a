package devcmd

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/fxgraph"
	"github.com/acme/monolith/platform/testkit"
)

// graphConfig is a fixed configuration, so the graph is the same on every
// machine (a bootstrapped superuser adds a hook, for instance).
func graphConfig(t *testing.T) config.Config {
	cfg := testkit.Config(t)
	cfg.Database.URL = "sqlite://" + filepath.Join(t.TempDir(), "graph.db")
	// The modules' sections read the environment: the superuser bootstrap
	// hook is drawn only when one is configured.
	t.Setenv("FIRST_SUPERUSER_EMAIL", apptest.SuperuserEmail)
	t.Setenv("FIRST_SUPERUSER_PASSWORD", apptest.SuperuserPassword)
	t.Setenv("JWT_PRIVATE_KEY", testkit.SigningKeyPEM(t))
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
					want = []string{"GET /api/users/me", "POST /api/auth/login", "OnStart+OnStop (httpserver.New)", "OnStart (users.bootstrapSuperuser)", "authn.Accounts"}
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
	g, err := fxgraph.Collect(appOptions(platform.WithConfig(graphConfig(t))))
	if err != nil {
		t.Fatal(err)
	}
	uses := map[string]string{}
	for _, u := range g.Uses {
		uses[u.From+"->"+u.To] = strings.Join(u.Types, ",")
	}
	for edge, typ := range map[string]string{
		"auth->users":     "authn.Accounts",      // auth finds accounts through the users module
		"platform->auth":  "authn.TokenVerifier", // the resolver verifies tokens with auth
		"users->platform": "*ent.Client",         // the users store
		"platform->users": "authn.Accounts",      // the resolver finds accounts through users
		"users->auth":     "authn.Revoker",       // users ends sessions when credentials change
	} {
		if !strings.Contains(uses[edge], typ) {
			t.Errorf("edge %s = %q, want it to carry %s", edge, uses[edge], typ)
		}
	}
	// Control: an edge carries exactly what crosses it, not every type the
	// other module provides (users never sees auth's services or store).
	// users ends sessions and reset tokens through the one revoker, and
	// mails verification and email-change links through the email links.
	if got := uses["users->auth"]; got != "authn.EmailLinks,authn.Revoker" {
		t.Errorf("users consumes %q from auth, want only authn.EmailLinks and authn.Revoker", got)
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
	if !ok || routes.Name != "routes" || len(routes.Members) != 4 || strings.Join(routes.Consumers, ",") != "platform" {
		t.Errorf("routes group = %+v (ok %v), want users', auth's (API and pages) and audit's members, collected by platform", routes, ok)
	}
	owners := map[string][]string{}
	for _, id := range routes.Members {
		for _, p := range g.Providers {
			if p.ID == id {
				owners[p.Module] = append(owners[p.Module], p.Constructor)
			}
		}
	}
	for _, l := range owners {
		slices.Sort(l)
	}
	if !slices.Equal(owners["users"], []string{"userapi.New"}) || !slices.Equal(owners["auth"], []string{"authapi.New", "authpages.New"}) ||
		!slices.Equal(owners["audit"], []string{"auditapi.New"}) {
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
	// platform: the database, the throttle pruner, the tracer, the job
	// UI's handler, the HTTP server; users: the first-superuser bootstrap
	// (its notice mails are jobs, which the job runner drains).
	if len(mods["platform"].Hooks) != 5 || len(mods["users"].Hooks) != 1 {
		t.Errorf("hooks: platform %+v, users %+v", mods["platform"].Hooks, mods["users"].Hooks)
	}
}
