package fxgraph

import (
	"encoding/json"
	"fmt"
	"html"
	"slices"
	"strings"
)

// Formats and levels Render accepts.
var (
	Formats = []string{"dot", "svg", "json", "mermaid"}
	Levels  = []string{"module", "provider"}
)

// Render draws g in format at level ("module": one node per module with
// its routes and hooks, edges labelled with the types one module consumes
// from another; "provider": every constructor, grouped by module). JSON is
// the whole Graph whatever the level.
func Render(g *Graph, format, level string) ([]byte, error) {
	if level != "module" && level != "provider" {
		return nil, fmt.Errorf("--level %q: use module or provider", level)
	}
	switch format {
	case "json":
		b, err := json.MarshalIndent(g, "", "  ")
		return append(b, '\n'), err
	case "dot":
		return []byte(DOT(g, level)), nil
	case "mermaid":
		return []byte(Mermaid(g, level)), nil
	case "svg":
		return []byte(SVG(g, level)), nil
	default:
		return nil, fmt.Errorf("--format %q: use one of %s", format, strings.Join(Formats, ", "))
	}
}

func (g *Graph) provider(id string) *Provider {
	for i := range g.Providers {
		if g.Providers[i].ID == id {
			return &g.Providers[i]
		}
	}
	return nil
}

// nodeLines are the lines a static picture shows under a node's name: a
// module's provider count, routes, hooks and invokes; a group's size and
// its members (the page shows the same on a click).
func (g *Graph) nodeLines(n ViewNode) []string {
	if n.Kind == KindEvent {
		for _, e := range g.Events {
			if e.Name != n.Name {
				continue
			}
			lines := []string{e.Type}
			if len(e.Publishers) == 0 {
				lines = append(lines, "published by no module here")
			}
			for _, p := range e.Publishers {
				lines = append(lines, "published by "+p)
			}
			for _, s := range e.Subscribers {
				lines = append(lines, "→ "+s.Module+" · "+s.Subscription)
			}
			return lines
		}
		return nil
	}
	if n.Kind == KindGroup {
		lines := []string{strings.TrimPrefix(n.Label, n.Name+"\n")}
		for _, gr := range g.Groups {
			if groupNodeID(gr.Type) != n.ID {
				continue
			}
			for _, pid := range gr.Members {
				if p := g.provider(pid); p != nil {
					lines = append(lines, p.Module+" · "+p.Constructor)
				}
			}
		}
		return lines
	}
	for _, m := range g.Modules {
		if m.Name == n.Name {
			return append(m.summary(), g.eventLines(m.Name)...)
		}
	}
	return nil
}

// eventLines list the events a module publishes and subscribes to.
func (g *Graph) eventLines(module string) []string {
	var lines []string
	for _, e := range g.Events {
		if slices.Contains(e.Publishers, module) {
			lines = append(lines, "publishes "+e.Name)
		}
	}
	for _, e := range g.Events {
		for _, s := range e.Subscribers {
			if s.Module == module {
				lines = append(lines, "subscribes to "+e.Name+" ("+s.Subscription+")")
			}
		}
	}
	return lines
}

// nodeTitle is the first, bold line of a node in a static picture.
func nodeTitle(n ViewNode) string {
	if n.Kind == KindGroup {
		return n.Name + " (value group)"
	}
	if n.Kind == KindEvent {
		return n.Name + " (event)"
	}
	return fmt.Sprintf("%s (%s)", n.Name, plural(n.Size, "provider"))
}

// edgeText is an arrow's label in a static picture: every type a module
// consumes (there is no click to see them), or the collected group.
func edgeText(e ViewEdge) []string {
	if e.Kind != KindModule {
		return []string{e.Label}
	}
	return e.Types
}

// summary lists a module's routes, hooks and invokes, one per line.
func (m Module) summary() []string {
	var lines []string
	for _, r := range m.Routes {
		lines = append(lines, r.Method+" "+r.Path)
	}
	for _, h := range m.Hooks {
		var on []string
		if h.OnStart {
			on = append(on, "OnStart")
		}
		if h.OnStop {
			on = append(on, "OnStop")
		}
		lines = append(lines, "hook "+strings.Join(on, "+")+" ("+h.RegisteredBy+")")
	}
	for _, i := range m.Invokes {
		lines = append(lines, "invoke "+i)
	}
	return lines
}

func id(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

// DOT is the Graphviz source of g at level.
func DOT(g *Graph, level string) string {
	var b strings.Builder
	b.WriteString("digraph fx {\n\trankdir=LR;\n\tnode [shape=plain fontname=\"Helvetica\" fontsize=10];\n\tedge [fontname=\"Helvetica\" fontsize=9 color=\"#555555\"];\n")
	if level == "module" {
		for _, n := range ModuleView(g).Nodes {
			lines, title := g.nodeLines(n), nodeTitle(n)
			head, attrs := "#dde7f5", ""
			switch n.Kind {
			case KindGroup:
				head, attrs = "#fef3c7", " STYLE=\"dashed\""
			case KindEvent:
				head, attrs = "#efe0f3", " STYLE=\"rounded\""
			}
			fmt.Fprintf(&b, "\t%s [label=<<TABLE BORDER=\"1\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"3\"%s><TR><TD BGCOLOR=\"%s\"><B>%s</B></TD></TR>",
				id(n.ID), attrs, head, html.EscapeString(title))
			for _, l := range lines {
				fmt.Fprintf(&b, "<TR><TD ALIGN=\"LEFT\">%s</TD></TR>", html.EscapeString(l))
			}
			b.WriteString("</TABLE>>];\n")
		}
		for _, e := range ModuleView(g).Edges {
			style := ""
			switch e.Kind {
			case KindGroup:
				style = " style=dashed"
			case KindPublishes, KindSubscribes:
				style = " style=bold color=\"#7c3aed\""
			}
			fmt.Fprintf(&b, "\t%s -> %s [label=%s%s];\n", id(e.From), id(e.To), id(strings.Join(edgeText(e), "\\n")), style)
		}
		b.WriteString("}\n")
		return b.String()
	}
	for i, m := range g.Modules {
		fmt.Fprintf(&b, "\tsubgraph cluster_%d {\n\t\tlabel=%s;\n\t\tstyle=rounded;\n", i, id(m.Name))
		for _, pid := range m.Providers {
			p := g.provider(pid)
			fmt.Fprintf(&b, "\t\t%s [shape=box label=%s];\n", id(p.ID), id(p.Constructor+"\\n"+strings.Join(p.Outputs, "\\n")))
		}
		b.WriteString("\t}\n")
	}
	for _, p := range g.Providers {
		for _, c := range p.Consumers {
			fmt.Fprintf(&b, "\t%s -> %s;\n", id(c), id(p.ID))
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// mermaidText escapes a label for a quoted Mermaid label.
func mermaidText(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;")
	return r.Replace(s)
}

func mermaidID(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, s)
}

// Mermaid is a Mermaid flowchart of g at level (GitHub renders it).
func Mermaid(g *Graph, level string) string {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	if level == "module" {
		v := ModuleView(g)
		for _, n := range v.Nodes {
			lines := g.nodeLines(n)
			for i := range lines {
				lines[i] = mermaidText(lines[i])
			}
			name, rest, _ := strings.Cut(mermaidText(nodeTitle(n)), " ")
			lines = append([]string{"<b>" + name + "</b> " + rest}, lines...)
			open, close := "[", "]"
			switch n.Kind {
			case KindGroup:
				open, close = "[(", ")]" // a cylinder: a collection modules add to
			case KindEvent:
				open, close = "{{", "}}" // a hexagon: a message between modules
			}
			fmt.Fprintf(&b, "  %s%s\"%s\"%s\n", mermaidID(n.ID), open, strings.Join(lines, "<br/>"), close)
		}
		for _, e := range v.Edges {
			arrow := "-->"
			switch e.Kind {
			case KindGroup:
				arrow = "-.->"
			case KindPublishes, KindSubscribes:
				arrow = "==>"
			}
			fmt.Fprintf(&b, "  %s %s|\"%s\"| %s\n", mermaidID(e.From), arrow, mermaidText(strings.Join(edgeText(e), ", ")), mermaidID(e.To))
		}
		return b.String()
	}
	for _, m := range g.Modules {
		fmt.Fprintf(&b, "  subgraph m_%s[\"%s\"]\n", mermaidID(m.Name), m.Name)
		for _, pid := range m.Providers {
			p := g.provider(pid)
			fmt.Fprintf(&b, "    %s[\"%s\"]\n", p.ID, mermaidText(p.Constructor+": "+strings.Join(p.Outputs, ", ")))
		}
		b.WriteString("  end\n")
	}
	for _, p := range g.Providers {
		for _, c := range p.Consumers {
			fmt.Fprintf(&b, "  %s --> %s\n", c, p.ID)
		}
	}
	return b.String()
}
