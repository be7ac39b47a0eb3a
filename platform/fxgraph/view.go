package fxgraph

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/acme/monolith/platform/events"
)

// View is the module picture: what every module-level rendering draws (the
// page, DOT, Mermaid, SVG), so that they agree. It applies two rules that
// keep the picture readable as modules are added:
//
//   - A value group (routes, health checks, commands...) is one collection
//     node; its consumer points at it once. Drawing the group as a use of
//     every member's module would add an arrow per member from the
//     platform back to each module, and that plumbing would drown the real
//     dependencies.
//   - A domain event is a node, with an arrow from its publisher and one
//     to each subscriber, only when it goes from one module to another:
//     one a module publishes for itself (or for nobody yet) is no
//     dependency, and is listed with its module.
//   - fx's own values (fx.Lifecycle, fx.Shutdowner) are not arrows: every
//     module with a hook would point at fx. Each module's hooks are listed
//     with it instead, and Root is left out when it holds only fx's values.
type View struct {
	Nodes []ViewNode `json:"nodes"`
	Edges []ViewEdge `json:"edges"`
}

// Kinds of view nodes and edges.
const (
	KindModule = "module" // node: an fx.Module; edge: From uses To
	KindGroup  = "group"  // node: a value group; edge: From consumes the group To
	KindEvent  = "event"  // node: a domain event
	// Edges of events: a module publishes an event; an event is delivered
	// to a module's subscription (the edge's label).
	KindPublishes  = "publishes"
	KindSubscribes = "subscribes"
)

// ViewNode is a module or a value group.
type ViewNode struct {
	ID   string `json:"id"` // "m:<module>" or "g:<group type>"
	Kind string `json:"kind"`
	Name string `json:"name"` // the module's name or the group's tag
	// Label is the node's text in a picture: its name and what it holds.
	Label string `json:"label"`
	// Size is what the node holds: providers of a module, members of a group.
	Size int `json:"size"`
}

// ViewEdge is a dependency of one module on another, or a module's
// consumption of a value group.
type ViewEdge struct {
	ID    string   `json:"id"`
	Kind  string   `json:"kind"`
	From  string   `json:"from"` // node IDs
	To    string   `json:"to"`
	Types []string `json:"types"`
	// Label is Types abbreviated to fit on an arrow (Types has them all).
	Label string `json:"label"`
	// Quiet marks an arrow into a module that every other module uses
	// (the platform): the page draws those light and unlabelled, since
	// "everyone uses the platform" is one fact, not one label per module.
	Quiet bool `json:"quiet,omitempty"`
}

// declarationsGroup is the value group of events.Declaration: the
// picture draws the events it declares instead of the group.
var declarationsGroup = reflect.TypeFor[events.Declaration]().String() + "[group=events]"

func moduleNodeID(name string) string { return "m:" + name }
func groupNodeID(typ string) string   { return "g:" + typ }
func eventNodeID(name string) string  { return "e:" + name }

// isFxType: the values fx itself supplies to every application.
func isFxType(t string) bool { return strings.HasPrefix(t, "fx.") }

// ModuleView is g as the module picture draws it.
func ModuleView(g *Graph) View {
	v := View{Nodes: []ViewNode{}, Edges: []ViewEdge{}}
	for _, m := range g.Modules {
		if m.Name == Root && onlyFx(g, m) {
			continue
		}
		v.Nodes = append(v.Nodes, ViewNode{
			ID: moduleNodeID(m.Name), Kind: KindModule, Name: m.Name, Size: len(m.Providers),
			Label: fmt.Sprintf("%s\n%s", m.Name, plural(len(m.Providers), "provider")),
		})
	}
	for _, gr := range g.Groups {
		if gr.Type == declarationsGroup {
			continue // drawn as the events themselves
		}
		from := map[string]bool{}
		for _, id := range gr.Members {
			if p := g.provider(id); p != nil {
				from[p.Module] = true
			}
		}
		v.Nodes = append(v.Nodes, ViewNode{
			ID: groupNodeID(gr.Type), Kind: KindGroup, Name: gr.Name, Size: len(gr.Members),
			Label: fmt.Sprintf("%s\n%d from %s", gr.Name, len(gr.Members), plural(len(from), "module")),
		})
	}
	for _, u := range g.Uses {
		var types []string
		for _, t := range u.Types {
			if !isFxType(t) {
				types = append(types, t)
			}
		}
		if len(types) == 0 {
			continue
		}
		v.Edges = append(v.Edges, ViewEdge{
			ID: "u:" + u.From + ">" + u.To, Kind: KindModule, From: moduleNodeID(u.From), To: moduleNodeID(u.To),
			Types: types, Label: abbreviate(types, labelWidth),
		})
	}
	for _, gr := range g.Groups {
		if gr.Type == declarationsGroup {
			continue
		}
		for _, c := range gr.Consumers {
			v.Edges = append(v.Edges, ViewEdge{
				ID: "c:" + c + ">" + gr.Type, Kind: KindGroup, From: moduleNodeID(c), To: groupNodeID(gr.Type),
				Types: []string{gr.Type}, Label: "[]" + strings.TrimSuffix(gr.Type, "[group="+gr.Name+"]"),
			})
		}
	}
	for _, e := range g.Events {
		if !e.BetweenModules() {
			continue // listed with its module instead
		}
		v.Nodes = append(v.Nodes, ViewNode{
			ID: eventNodeID(e.Name), Kind: KindEvent, Name: e.Name, Size: len(e.Subscribers),
			Label: fmt.Sprintf("%s\n%s", e.Name, plural(len(e.Subscribers), "subscriber")),
		})
		for _, m := range e.Publishers {
			v.Edges = append(v.Edges, ViewEdge{
				ID: "p:" + m + ">" + e.Name, Kind: KindPublishes, From: moduleNodeID(m), To: eventNodeID(e.Name),
				Types: []string{e.Type}, Label: "publishes",
			})
		}
		for _, s := range e.Subscribers {
			if slices.Contains(e.Publishers, s.Module) {
				// A module's subscription to its own event would be an
				// arrow back up; the event's box lists it instead.
				continue
			}
			v.Edges = append(v.Edges, ViewEdge{
				ID: "s:" + e.Name + ">" + s.Subscription, Kind: KindSubscribes, From: eventNodeID(e.Name), To: moduleNodeID(s.Module),
				Types: []string{s.Subscription}, Label: s.Subscription,
			})
		}
	}
	markQuiet(&v)
	return v
}

// markQuiet marks the arrows into a module that every other module
// consumes from, when there are at least three others.
func markQuiet(v *View) {
	modules := 0
	for _, n := range v.Nodes {
		if n.Kind == KindModule {
			modules++
		}
	}
	users := map[string]int{}
	for _, e := range v.Edges {
		if e.Kind == KindModule {
			users[e.To]++
		}
	}
	for i, e := range v.Edges {
		if e.Kind == KindModule && modules >= 4 && users[e.To] == modules-1 {
			v.Edges[i].Quiet = true
		}
	}
}

// onlyFx: m provides nothing but fx's own values and does nothing else.
func onlyFx(g *Graph, m Module) bool {
	if len(m.Routes)+len(m.Hooks)+len(m.Invokes) > 0 {
		return false
	}
	for _, id := range m.Providers {
		if p := g.provider(id); p != nil {
			for _, o := range p.Outputs {
				if !isFxType(o) {
					return false
				}
			}
		}
	}
	return true
}

// labelWidth is how many characters of type names an arrow's label shows.
const labelWidth = 24

// abbreviate lists types while they fit in width characters, then says how
// many more there are: "*ent.Client, *zap.Logger +5".
func abbreviate(types []string, width int) string {
	var b strings.Builder
	n := 0 // characters written, not bytes: type names may be any letters
	for i, t := range types {
		sep := ""
		if i > 0 {
			sep = ", "
		}
		more := ""
		if rest := len(types) - i - 1; rest > 0 {
			more = fmt.Sprintf(" +%d", rest)
		}
		if i > 0 && n+len(sep)+utf8.RuneCountInString(t+more) > width {
			fmt.Fprintf(&b, " +%d", len(types)-i)
			break
		}
		b.WriteString(sep + t)
		n += len(sep) + utf8.RuneCountInString(t)
	}
	return b.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
