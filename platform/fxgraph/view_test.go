package fxgraph

import (
	"encoding/xml"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// tenModules is an application as Collect sees it with ten feature modules
// beside users and auth: every module adds its routes to the group and a
// health check to another, consumes the platform and fx's lifecycle, and
// some consume each other; the platform collects both groups.
func tenModules() *Graph {
	g := &Graph{}
	provide := func(module, ctor string, outputs []string, inputs ...string) string {
		id := fmt.Sprintf("p%d", len(g.Providers))
		g.Providers = append(g.Providers, Provider{ID: id, Module: module, Constructor: ctor, Outputs: outputs, Inputs: inputs})
		return id
	}
	g.Modules = append(g.Modules, Module{Name: Root, Providers: []string{
		provide(Root, "fx.New.func1", []string{"fx.Lifecycle"}),
		provide(Root, "fx.(*App).shutdowner-fm", []string{"fx.Shutdowner"}),
	}})
	platform := Module{Name: "platform", Providers: []string{
		provide("platform", "database.NewClient", []string{"*ent.Client"}, "fx.Lifecycle"),
		provide("platform", "httpserver.New", []string{"*httpserver.Server"}, "httpserver.Routes[group=routes]", "health.Check[group=health_checks]"),
	}}
	names := []string{"users", "auth", "customers", "products", "inventory", "orders", "invoices", "payments", "shipments", "reviews", "coupons", "überwachung"}
	routes := Group{Name: "routes", Type: "httpserver.Routes[group=routes]", Consumers: []string{"platform"}}
	checks := Group{Name: "health_checks", Type: "health.Check[group=health_checks]", Consumers: []string{"platform"}}
	for i, name := range names {
		m := Module{Name: name, Routes: []Route{{Method: "GET", Path: "/api/" + name}}}
		inputs := []string{"*ent.Client", "fx.Lifecycle"}
		if i > 0 {
			inputs = append(inputs, "*"+names[i-1]+".Service")
			g.Uses = append(g.Uses, Use{From: name, To: names[i-1], Types: []string{"*" + names[i-1] + ".Service"}})
		}
		m.Providers = append(m.Providers, provide(name, name+".New", []string{"*" + name + ".Service"}, inputs...))
		api := provide(name, name+"api.New", []string{routes.Type}, "*"+name+".Service")
		check := provide(name, name+".NewCheck", []string{checks.Type}, "*ent.Client")
		m.Providers = append(m.Providers, api, check)
		routes.Members = append(routes.Members, api)
		checks.Members = append(checks.Members, check)
		g.Modules = append(g.Modules, m)
		g.Uses = append(g.Uses,
			Use{From: name, To: "platform", Types: []string{"*ent.Client"}},
			Use{From: name, To: Root, Types: []string{"fx.Lifecycle"}})
	}
	g.Modules = append(g.Modules, platform)
	g.Uses = append(g.Uses, Use{From: "platform", To: Root, Types: []string{"fx.Lifecycle"}})
	g.Groups = []Group{checks, routes}
	return g
}

func TestModuleViewDrawsEachGroupOnce(t *testing.T) {
	g := tenModules()
	v := ModuleView(g)
	kinds := map[string]int{}
	ids := map[string]bool{}
	for _, n := range v.Nodes {
		kinds[n.Kind]++
		ids[n.ID] = true
		if n.Name == Root {
			t.Errorf("the root, which holds only fx's values, is drawn: %+v", n)
		}
	}
	if kinds[KindModule] != 13 || kinds[KindGroup] != 2 {
		t.Errorf("nodes by kind %v, want 13 modules and 2 groups", kinds)
	}
	var toGroups, quiet, uses int
	for _, e := range v.Edges {
		if !ids[e.From] || !ids[e.To] {
			t.Errorf("edge %s from %s to %s ends outside the picture", e.ID, e.From, e.To)
		}
		for _, typ := range e.Types {
			if isFxType(typ) {
				t.Errorf("edge %s carries fx's %s", e.ID, typ)
			}
			if e.Kind == KindModule && strings.Contains(typ, "[group=") {
				t.Errorf("edge %s carries the group member %s", e.ID, typ)
			}
		}
		if n := utf8.RuneCountInString(e.Label); n > labelWidth+4 {
			t.Errorf("edge %s: label %q is %d characters", e.ID, e.Label, n)
		}
		switch {
		case e.Kind == KindGroup:
			toGroups++
		case e.Quiet:
			quiet++
		default:
			uses++
		}
	}
	// One arrow per group (the platform collecting it), one per module
	// into the platform (quiet: all twelve use it), eleven between modules.
	if toGroups != 2 || quiet != 12 || uses != 11 {
		t.Errorf("%d arrows to groups, %d quiet, %d between modules; want 2, 12, 11", toGroups, quiet, uses)
	}
	for _, n := range v.Nodes {
		if n.ID == groupNodeID("httpserver.Routes[group=routes]") && n.Label != "routes\n12 from 12 modules" {
			t.Errorf("routes node label %q", n.Label)
		}
	}
}

// The static pictures (the onboarding page's Mermaid and SVG, DOT) draw
// each group once too, with its members listed in it.
func TestStaticPicturesDrawEachGroupOnce(t *testing.T) {
	g := tenModules()
	mermaid := Mermaid(g, "module")
	if n := strings.Count(mermaid, "[(\"<b>routes</b> (value group)"); n != 1 {
		t.Errorf("%d routes nodes in Mermaid, want 1:\n%s", n, mermaid)
	}
	if n := regexp.MustCompile(`(?m)^  \S+ -\.->\|"\[\]httpserver\.Routes"\| g_`).FindAllString(mermaid, -1); len(n) != 1 {
		t.Errorf("arrows to the routes group in Mermaid: %q, want the platform's only", n)
	}
	if strings.Contains(mermaid, "-->|\"httpserver.Routes[group=routes]") || strings.Contains(mermaid, "fx.Lifecycle") || strings.Contains(mermaid, "m_app") {
		t.Errorf("Mermaid draws group members, fx's values or fx itself as arrows:\n%s", mermaid)
	}
	if !strings.Contains(mermaid, "überwachung · überwachungapi.New") {
		t.Error("the routes node does not list its members")
	}
	if got, want := strings.Count(mermaid, "-->")+strings.Count(mermaid, "-.->"), len(ModuleView(g).Edges); got != want {
		t.Errorf("Mermaid has %d arrows, the view %d", got, want)
	}

	dot := DOT(g, "module")
	if n := strings.Count(dot, `<B>routes (value group)</B>`); n != 1 || strings.Count(dot, `-> "g:httpserver.Routes[group=routes]"`) != 1 {
		t.Errorf("DOT draws the routes group %d times, or not once as a target:\n%s", n, dot)
	}

	svg := SVG(g, "module")
	if err := xml.Unmarshal([]byte(svg), new(any)); err != nil {
		t.Fatalf("SVG not well-formed: %v", err)
	}
	if n := strings.Count(svg, `<title>g:httpserver.Routes[group=routes]</title>`); n != 1 {
		t.Errorf("%d routes boxes in the SVG, want 1", n)
	}
	if edges := strings.Count(svg, `<g class="edge">`); edges != len(ModuleView(g).Edges) {
		t.Errorf("%d arrows in the SVG, want %d", edges, len(ModuleView(g).Edges))
	}
}

func TestAbbreviate(t *testing.T) {
	for _, c := range []struct {
		types []string
		want  string
	}{
		{[]string{"authn.Directory"}, "authn.Directory"},
		{[]string{"authn.Directory", "authn.Recovery"}, "authn.Directory +1"},
		{[]string{"*a.B", "*c.D", "*e.F"}, "*a.B, *c.D, *e.F"},
		{[]string{"*a.VeryLongTypeNameThatIsLongerThanTheWidth", "*b.C"}, "*a.VeryLongTypeNameThatIsLongerThanTheWidth +1"},
		// Characters, not bytes: 17 of them here, in 27 bytes.
		{[]string{"*üüüüüüüü.D", "*ö.Ä"}, "*üüüüüüüü.D, *ö.Ä"},
	} {
		if got := abbreviate(c.types, labelWidth); got != c.want {
			t.Errorf("abbreviate(%q) = %q, want %q", c.types, got, c.want)
		}
	}
}
