package fxgraph_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/go-cmp/cmp"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/events"
	"github.com/acme/monolith/platform/fxgraph"
	"github.com/acme/monolith/platform/health"
	"github.com/acme/monolith/platform/httpserver"
)

type (
	clock  struct{}
	ledger struct{ c *clock }
	routes struct{ l *ledger }
)

func newClock() *clock { return &clock{} }

func newLedger(lc fx.Lifecycle, c *clock) *ledger {
	lc.Append(fx.Hook{OnStop: func(context.Context) error { return nil }})
	return &ledger{c: c}
}

func newRoutes(l *ledger) *routes { return &routes{l: l} }

func (r *routes) Register(api huma.API) {
	huma.Register(api, huma.Operation{OperationID: "get-ledger", Method: http.MethodGet, Path: "/api/ledger"},
		func(context.Context, *struct{}) (*struct{}, error) { return nil, nil })
}

// TestCollectGroupsByModule builds a two-module app beside the HTTP server
// and checks the module-level facts: ledger consumes *clock from timing
// (and not the reverse), and the hook and the route belong to ledger.
func TestCollectGroupsByModule(t *testing.T) {
	cfg, err := config.LoadFrom(func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	app := fx.Options(
		fx.Supply(cfg.HTTP, zap.NewNop()),
		fx.Provide(health.NewRegistry, httpserver.New),
		fx.Module("timing", fx.Provide(newClock)),
		fx.Module("ledger", fx.Provide(newLedger, httpserver.AsRoutes(newRoutes))),
	)
	g, err := fxgraph.Collect(app)
	if err != nil {
		t.Fatal(err)
	}
	var uses []string
	for _, u := range g.Uses {
		uses = append(uses, u.From+"->"+u.To+":"+strings.Join(u.Types, ","))
	}
	all := strings.Join(uses, " ")
	if !strings.Contains(all, "ledger->timing:*fxgraph_test.clock") {
		t.Errorf("uses = %v, want ledger->timing carrying *fxgraph_test.clock", uses)
	}
	if strings.Contains(all, "timing->ledger") {
		t.Errorf("timing consumes nothing from ledger, yet: %v", uses)
	}
	// The server collects the routes group: a group, not a use of ledger.
	if strings.Contains(all, "[group=") {
		t.Errorf("a use carries a group member: %v", uses)
	}
	var routes *fxgraph.Group
	for i, gr := range g.Groups {
		if gr.Type == "httpserver.Routes[group=routes]" {
			routes = &g.Groups[i]
		}
	}
	if routes == nil || routes.Name != "routes" || len(routes.Members) != 1 || strings.Join(routes.Consumers, ",") != fxgraph.Root {
		t.Fatalf("groups = %+v, want routes with ledger's member, collected by the root (the server)", g.Groups)
	}
	for _, p := range g.Providers {
		if p.ID == routes.Members[0] && (p.Module != "ledger" || p.Constructor != "fxgraph_test.newRoutes") {
			t.Errorf("the routes member is %+v", p)
		}
	}
	for _, m := range g.Modules {
		switch m.Name {
		case "ledger":
			if len(m.Hooks) != 1 || m.Hooks[0].RegisteredBy != "fxgraph_test.newLedger" || m.Hooks[0].OnStart || !m.Hooks[0].OnStop {
				t.Errorf("ledger hooks = %+v", m.Hooks)
			}
			if len(m.Routes) != 1 || m.Routes[0].Path != "/api/ledger" || m.Routes[0].Method != http.MethodGet {
				t.Errorf("ledger routes = %+v", m.Routes)
			}
		case "timing":
			if len(m.Hooks) != 0 || len(m.Routes) != 0 || len(m.Providers) != 1 {
				t.Errorf("timing = %+v", m)
			}
		}
	}
	for _, format := range fxgraph.Formats {
		if out, err := fxgraph.Render(g, format, "module"); err != nil || !strings.Contains(string(out), "ledger") {
			t.Errorf("%s: %v %.200s", format, err, out)
		}
	}
}

type (
	shipped    struct{}
	onShipped  struct{}
	alsoOnShip struct{}
)

func (shipped) EventName() string { return "order.shipped" }

func (onShipped) Handle(context.Context, events.Delivery[shipped]) error  { return nil }
func (alsoOnShip) Handle(context.Context, events.Delivery[shipped]) error { return nil }

// TestCollectEvents: the graph says which module publishes an event and
// which modules subscribe to it, by subscription, and every picture
// draws the event between them.
func TestCollectEvents(t *testing.T) {
	cfg, err := config.LoadFrom(func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	g, err := fxgraph.Collect(fx.Options(
		fx.Supply(cfg.HTTP, zap.NewNop()),
		fx.Provide(health.NewRegistry, httpserver.New),
		fx.Module("orders", events.Publishes[shipped]()),
		fx.Module("mailing", events.Subscribe[shipped]("mailing.shipped_mail", func() onShipped { return onShipped{} })),
		fx.Module("stock", events.Subscribe[shipped]("stock.release", func() alsoOnShip { return alsoOnShip{} })),
	))
	if err != nil {
		t.Fatal(err)
	}
	want := []fxgraph.Event{{
		Name: "order.shipped", Type: "fxgraph_test.shipped", Publishers: []string{"orders"},
		Subscribers: []fxgraph.Subscriber{{Module: "mailing", Subscription: "mailing.shipped_mail"}, {Module: "stock", Subscription: "stock.release"}},
	}}
	if diff := cmp.Diff(want, g.Events); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
	v := fxgraph.ModuleView(g)
	var arrows []string
	for _, e := range v.Edges {
		if e.Kind == fxgraph.KindPublishes || e.Kind == fxgraph.KindSubscribes {
			arrows = append(arrows, e.From+" "+e.Kind+" "+e.To+" "+e.Label)
		}
	}
	wantArrows := []string{
		"m:orders publishes e:order.shipped publishes",
		"e:order.shipped subscribes m:mailing mailing.shipped_mail",
		"e:order.shipped subscribes m:stock stock.release",
	}
	if diff := cmp.Diff(wantArrows, arrows); diff != "" {
		t.Errorf("event arrows (-want +got):\n%s", diff)
	}
	for _, format := range fxgraph.Formats {
		out, err := fxgraph.Render(g, format, "module")
		if err != nil || !strings.Contains(string(out), "order.shipped") || !strings.Contains(string(out), "stock.release") {
			t.Errorf("%s: %v %.300s", format, err, out)
		}
	}
}
