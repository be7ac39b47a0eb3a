// Package fxgraph explains the application's dependency graph for people:
// which module provides what, which module consumes what from which other
// module, the routes each module serves and the lifecycle hooks it
// registers, and the domain events each module publishes and subscribes
// to (platform/events). fx's own DotGraph has the constructors and their inputs but
// groups them by Go package; fx's events (Provided carries ModuleName) add
// the modules. Collect merges both; render.go draws the result as DOT,
// SVG, Mermaid or JSON, and page.go serves it as an interactive page.
package fxgraph

import (
	"bufio"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humafiber"
	"github.com/gofiber/fiber/v2"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"

	"github.com/acme/monolith/platform/events"
	"github.com/acme/monolith/platform/httpserver"
)

// Root names what is provided outside any fx.Module (fx itself, and the
// values the binary supplies or replaces).
const Root = "app"

// Graph is the application, explained.
type Graph struct {
	Modules   []Module   `json:"modules"`
	Providers []Provider `json:"providers"`
	// Uses are the module-level edges: From consumes Types provided by To.
	// A value group is not a use of each member's module: it is in Groups.
	Uses   []Use   `json:"uses"`
	Groups []Group `json:"groups,omitempty"`
	// Events are the domain events modules declare, with who publishes
	// and who subscribes to each.
	Events []Event `json:"events,omitempty"`
}

// Event is one domain event (events.Publishes, events.Subscribe).
type Event struct {
	Name        string       `json:"name"` // its stable name: account.created
	Type        string       `json:"type"` // its Go type
	Publishers  []string     `json:"publishers,omitempty"`
	Subscribers []Subscriber `json:"subscribers,omitempty"`
}

// BetweenModules reports whether e goes from one module to another: a
// module subscribes to it that does not publish it, or no module here
// publishes what a module subscribes to.
func (e Event) BetweenModules() bool {
	for _, s := range e.Subscribers {
		if !slices.Contains(e.Publishers, s.Module) {
			return true
		}
	}
	return false
}

// Subscriber is one subscription to an event and the module declaring it.
type Subscriber struct {
	Module       string `json:"module"`
	Subscription string `json:"subscription"`
}

// Module is one fx.Module (or Root).
type Module struct {
	Name      string   `json:"name"`
	Providers []string `json:"providers"` // Provider IDs
	Invokes   []string `json:"invokes,omitempty"`
	Routes    []Route  `json:"routes,omitempty"`
	Hooks     []Hook   `json:"hooks,omitempty"`
}

// Provider is one constructor.
type Provider struct {
	ID          string   `json:"id"`
	Module      string   `json:"module"`
	Constructor string   `json:"constructor"`
	Private     bool     `json:"private,omitempty"`
	Outputs     []string `json:"outputs"`
	Inputs      []string `json:"inputs,omitempty"`
	Consumers   []string `json:"consumers,omitempty"` // Provider IDs
}

// Use is a module-level dependency.
type Use struct {
	From  string   `json:"from"`
	To    string   `json:"to"`
	Types []string `json:"types"`
}

// Group is an fx value group (any type tagged `group:"..."`: the routes,
// the health checks...): the providers that add a member to it and the
// modules that consume the whole collection. Members join it from every
// module, so it is one collection rather than a dependency on each.
type Group struct {
	Name      string   `json:"name"`                // the group's tag: routes
	Type      string   `json:"type"`                // the type key: httpserver.Routes[group=routes]
	Members   []string `json:"members"`             // Provider IDs
	Consumers []string `json:"consumers,omitempty"` // module names
}

// Route is one operation a module serves.
type Route struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	ID     string `json:"operation_id,omitempty"`
}

// Hook is a lifecycle hook and the function that registered it.
type Hook struct {
	RegisteredBy string `json:"registered_by"`
	OnStart      bool   `json:"on_start"`
	OnStop       bool   `json:"on_stop"`
}

// recorder collects fx events and lifecycle appends while the graph builds.
type recorder struct {
	mu       sync.Mutex
	provided []*fxevent.Provided
	invoked  []*fxevent.Invoked
	hooks    []Hook
}

func (r *recorder) LogEvent(e fxevent.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch e := e.(type) {
	case *fxevent.Provided:
		if e.Err == nil {
			r.provided = append(r.provided, e)
		}
	case *fxevent.Invoked:
		if e.Err == nil {
			r.invoked = append(r.invoked, e)
		}
	}
}

// lifecycle records which function appends each hook.
type lifecycle struct {
	fx.Lifecycle
	rec *recorder
}

func (l lifecycle) Append(h fx.Hook) {
	name := "?"
	if pc, _, _, ok := runtime.Caller(1); ok {
		name = runtime.FuncForPC(pc).Name()
	}
	l.rec.mu.Lock()
	l.rec.hooks = append(l.rec.hooks, Hook{RegisteredBy: name, OnStart: h.OnStart != nil, OnStop: h.OnStop != nil})
	l.rec.mu.Unlock()
	l.Lifecycle.Append(h)
}

type routesIn struct {
	fx.In
	Routes []httpserver.Routes `group:"routes"`
}

type eventsIn struct {
	fx.In
	Declarations []events.Declaration `group:"events"`
}

// Collect builds app (the whole application's options) without starting
// it, and explains it. Constructors run, so the HTTP server and every
// module's routes exist, but no hook runs: nothing connects or listens.
func Collect(app fx.Option) (*Graph, error) {
	rec := &recorder{}
	var dot fx.DotGraph
	var routes []httpserver.Routes
	var decls []events.Declaration
	a := fx.New(app,
		fx.WithLogger(func() fxevent.Logger { return rec }),
		fx.Decorate(func(lc fx.Lifecycle) fx.Lifecycle { return lifecycle{lc, rec} }),
		fx.Populate(&dot),
		fx.Invoke(func(_ *httpserver.Server, in routesIn) { routes = in.Routes }),
		fx.Invoke(func(in eventsIn) { decls = in.Declarations }),
	)
	if err := a.Err(); err != nil {
		return nil, err
	}
	g, err := build(rec, string(dot), routes)
	if err != nil {
		return nil, err
	}
	g.Events = eventFlows(rec, decls)
	return g, nil
}

type cluster struct {
	outputs []string
	inputs  []string
}

var (
	clusterLine = regexp.MustCompile(`^\s*subgraph cluster_(\d+) \{`)
	nodeLine    = regexp.MustCompile(`^\s*"([^"]+)" \[label=`)
	edgeLine    = regexp.MustCompile(`^\s*constructor_(\d+) -> "([^"]+)"`)
	groupMember = regexp.MustCompile(`^(.*)\[group=([^\]]+)\](\d+)$`)
	groupNode   = regexp.MustCompile(`^\[type=(.*) group=(.*)\]$`)
	groupKey    = regexp.MustCompile(`\[group=([^\]]+)\]$`)
)

// groupOf is the name of the value group a type key belongs to, or "".
func groupOf(key string) string {
	if m := groupKey.FindStringSubmatch(key); m != nil {
		return m[1]
	}
	return ""
}

// parseDot reads fx.DotGraph: one cluster per constructor, with its
// outputs as nodes inside and its inputs as edges from it.
func parseDot(dot string) []*cluster {
	byID := map[string]*cluster{}
	var order []*cluster
	var cur *cluster
	sc := bufio.NewScanner(strings.NewReader(dot))
	for sc.Scan() {
		line := sc.Text()
		switch {
		case clusterLine.MatchString(line):
			cur = &cluster{}
			byID[clusterLine.FindStringSubmatch(line)[1]] = cur
			order = append(order, cur)
		case strings.TrimSpace(line) == "}":
			cur = nil
		case cur != nil && nodeLine.MatchString(line):
			cur.outputs = append(cur.outputs, nodeLine.FindStringSubmatch(line)[1])
		case edgeLine.MatchString(line):
			m := edgeLine.FindStringSubmatch(line)
			if c := byID[m[1]]; c != nil {
				c.inputs = append(c.inputs, m[2])
			}
		}
	}
	return order
}

// typeKey turns fx's output names (`httpserver.Routes[group = "routes"]`)
// and DOT node names (`httpserver.Routes[group=routes]0`,
// `[type=httpserver.Routes group=routes]`) into one key.
func typeKey(s string) string {
	if m := groupNode.FindStringSubmatch(s); m != nil {
		return m[1] + "[group=" + m[2] + "]"
	}
	if m := groupMember.FindStringSubmatch(s); m != nil {
		return m[1] + "[group=" + m[2] + "]"
	}
	s = strings.ReplaceAll(s, `"`, "")
	return strings.ReplaceAll(s, " = ", "=")
}

// shortName makes a constructor name readable:
// "fx.Annotate(github.com/x/modules/users/userapi.New(), ...)" -> "userapi.New".
func shortName(full string) string {
	s := strings.TrimPrefix(full, "fx.Annotate(")
	if i := strings.Index(s, "()"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndex(s, "/"); i >= 0 {
		s = s[i+1:]
	}
	return s
}

func funcPath(full string) string {
	s := strings.TrimPrefix(full, "fx.Annotate(")
	if i := strings.Index(s, "()"); i >= 0 {
		s = s[:i]
	}
	return s
}

func build(rec *recorder, dot string, routes []httpserver.Routes) (*Graph, error) {
	g := &Graph{}
	mods := map[string]*Module{}
	module := func(name string) *Module {
		if name == "" {
			name = Root
		}
		if mods[name] == nil {
			mods[name] = &Module{Name: name}
		}
		return mods[name]
	}

	// Providers from the events, matched to DOT clusters by their outputs
	// (group members by their order within the group).
	clusters := parseDot(dot)
	byOutput := map[string][]*cluster{}
	for _, c := range clusters {
		if len(c.outputs) > 0 {
			k := typeKey(c.outputs[0])
			byOutput[k] = append(byOutput[k], c)
		}
	}
	providerOf := map[string][]int{} // type key -> provider indexes
	for i, e := range rec.provided {
		p := Provider{ID: fmt.Sprintf("p%d", i), Module: module(e.ModuleName).Name, Constructor: shortName(e.ConstructorName), Private: e.Private}
		for _, o := range e.OutputTypeNames {
			p.Outputs = append(p.Outputs, typeKey(o))
		}
		if len(p.Outputs) > 0 {
			k := p.Outputs[0]
			if cs := byOutput[k]; len(cs) > 0 {
				for _, in := range cs[0].inputs {
					p.Inputs = append(p.Inputs, typeKey(in))
				}
				byOutput[k] = cs[1:]
			}
		}
		for _, o := range p.Outputs {
			providerOf[o] = append(providerOf[o], len(g.Providers))
		}
		g.Providers = append(g.Providers, p)
		m := module(e.ModuleName)
		m.Providers = append(m.Providers, p.ID)
	}

	// Value groups: their members, and the modules that consume them.
	groups := map[string]*Group{}
	groupFor := func(key string) *Group {
		if groups[key] == nil {
			groups[key] = &Group{Name: groupOf(key), Type: key, Members: []string{}}
		}
		return groups[key]
	}
	for _, p := range g.Providers {
		for _, o := range p.Outputs {
			if groupOf(o) != "" {
				gr := groupFor(o)
				gr.Members = append(gr.Members, p.ID)
			}
		}
		for _, in := range p.Inputs {
			if groupOf(in) != "" {
				gr := groupFor(in)
				if !slices.Contains(gr.Consumers, p.Module) {
					gr.Consumers = append(gr.Consumers, p.Module)
				}
			}
		}
	}
	for _, key := range sortedKeys(groups) {
		gr := groups[key]
		sort.Strings(gr.Consumers)
		g.Groups = append(g.Groups, *gr)
	}

	// Consumers and module-level uses (a group is not a use: see Groups).
	uses := map[[2]string]map[string]bool{}
	for i := range g.Providers {
		p := &g.Providers[i]
		for _, in := range p.Inputs {
			for _, j := range providerOf[in] {
				q := &g.Providers[j]
				if !slices.Contains(q.Consumers, p.ID) {
					q.Consumers = append(q.Consumers, p.ID)
				}
				if q.Module != p.Module && groupOf(in) == "" {
					k := [2]string{p.Module, q.Module}
					if uses[k] == nil {
						uses[k] = map[string]bool{}
					}
					uses[k][in] = true
				}
			}
		}
	}
	for k, types := range uses {
		g.Uses = append(g.Uses, Use{From: k[0], To: k[1], Types: sortedKeys(types)})
	}
	sort.Slice(g.Uses, func(i, j int) bool {
		return g.Uses[i].From+"\x00"+g.Uses[i].To < g.Uses[j].From+"\x00"+g.Uses[j].To
	})

	// Invokes, except the ones Collect itself adds.
	for _, e := range rec.invoked {
		if strings.Contains(e.FunctionName, "platform/fxgraph.") || strings.HasPrefix(e.FunctionName, "reflect.") {
			continue
		}
		m := module(e.ModuleName)
		m.Invokes = append(m.Invokes, shortName(e.FunctionName))
	}

	// Hooks, attributed to the module of the constructor or invoke that
	// registered them.
	for _, h := range rec.hooks {
		name := moduleOfFunc(rec, h.RegisteredBy)
		h.RegisteredBy = shortName(h.RegisteredBy)
		m := module(name)
		m.Hooks = append(m.Hooks, h)
	}

	// Routes: each Routes registers on a scratch API, whose OpenAPI
	// document then lists exactly its operations.
	for _, r := range routes {
		name := moduleOfRoutes(rec, reflect.TypeOf(r))
		m := module(name)
		m.Routes = append(m.Routes, operations(r)...)
	}

	for _, name := range sortedKeys(mods) {
		g.Modules = append(g.Modules, *mods[name])
	}
	return g, nil
}

// eventFlows groups the declarations by event. The module of a
// declaration is the one that provides what it says it provides beside
// it (the publisher, or the named subscriber): group members carry no
// module of their own.
func eventFlows(rec *recorder, decls []events.Declaration) []Event {
	moduleOf := func(key string) string {
		key = typeKey(key)
		for _, e := range rec.provided {
			for _, o := range e.OutputTypeNames {
				if typeKey(o) == key {
					return module(e.ModuleName)
				}
			}
		}
		return Root
	}
	byName := map[string]*Event{}
	for _, d := range decls {
		e := byName[d.Event]
		if e == nil {
			e = &Event{Name: d.Event, Type: d.Type}
			byName[d.Event] = e
		}
		m := moduleOf(d.Provides)
		if d.Subscription == "" {
			if !slices.Contains(e.Publishers, m) {
				e.Publishers = append(e.Publishers, m)
			}
			continue
		}
		e.Subscribers = append(e.Subscribers, Subscriber{Module: m, Subscription: d.Subscription})
	}
	var out []Event
	for _, name := range sortedKeys(byName) {
		e := byName[name]
		sort.Strings(e.Publishers)
		sort.Slice(e.Subscribers, func(i, j int) bool { return e.Subscribers[i].Subscription < e.Subscribers[j].Subscription })
		out = append(out, *e)
	}
	return out
}

func module(name string) string {
	if name == "" {
		return Root
	}
	return name
}

// moduleOfFunc finds the module whose constructor or invoke is fn (or
// encloses it, for a closure).
func moduleOfFunc(rec *recorder, fn string) string {
	for name := fn; name != ""; {
		for _, e := range rec.provided {
			if funcPath(e.ConstructorName) == name {
				return e.ModuleName
			}
		}
		for _, e := range rec.invoked {
			if funcPath(e.FunctionName) == name {
				return e.ModuleName
			}
		}
		i := strings.LastIndex(name, ".")
		if i < 0 || strings.LastIndex(name, "/") > i {
			break
		}
		name = name[:i]
	}
	return ""
}

// moduleOfRoutes finds the module of a routes group member: among the
// constructors that feed the group, the one from the member type's package
// (the group's order is not the order of provision, so it cannot be used).
func moduleOfRoutes(rec *recorder, t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	for _, e := range rec.provided {
		feedsRoutes := false
		for _, o := range e.OutputTypeNames {
			feedsRoutes = feedsRoutes || typeKey(o) == "httpserver.Routes[group=routes]"
		}
		if feedsRoutes && strings.HasPrefix(funcPath(e.ConstructorName), t.PkgPath()+".") {
			return e.ModuleName
		}
	}
	return ""
}

func operations(r httpserver.Routes) []Route {
	api := humafiber.New(fiber.New(), huma.DefaultConfig("scratch", "0"))
	r.Register(api)
	var out []Route
	for path, item := range api.OpenAPI().Paths {
		for method, op := range map[string]*huma.Operation{
			http.MethodGet: item.Get, http.MethodPost: item.Post, http.MethodPut: item.Put,
			http.MethodPatch: item.Patch, http.MethodDelete: item.Delete,
		} {
			if op != nil {
				out = append(out, Route{Method: method, Path: path, ID: op.OperationID})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Path+" "+out[i].Method < out[j].Path+" "+out[j].Method
	})
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
