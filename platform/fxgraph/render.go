package fxgraph

import (
	"encoding/json"
	"fmt"
	"html"
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
		for _, m := range g.Modules {
			fmt.Fprintf(&b, "\t%s [label=<<TABLE BORDER=\"1\" CELLBORDER=\"0\" CELLSPACING=\"0\" CELLPADDING=\"3\"><TR><TD BGCOLOR=\"#dde7f5\"><B>%s</B>&#160;(%d providers)</TD></TR>",
				id("m:"+m.Name), html.EscapeString(m.Name), len(m.Providers))
			for _, l := range m.summary() {
				fmt.Fprintf(&b, "<TR><TD ALIGN=\"LEFT\">%s</TD></TR>", html.EscapeString(l))
			}
			b.WriteString("</TABLE>>];\n")
		}
		for _, u := range g.Uses {
			fmt.Fprintf(&b, "\t%s -> %s [label=%s];\n", id("m:"+u.From), id("m:"+u.To), id(strings.Join(u.Types, "\\n")))
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
		for _, m := range g.Modules {
			lines := append([]string{fmt.Sprintf("<b>%s</b> (%d providers)", m.Name, len(m.Providers))}, m.summary()...)
			for i := 1; i < len(lines); i++ {
				lines[i] = mermaidText(lines[i])
			}
			fmt.Fprintf(&b, "  m_%s[\"%s\"]\n", mermaidID(m.Name), strings.Join(lines, "<br/>"))
		}
		for _, u := range g.Uses {
			fmt.Fprintf(&b, "  m_%s -->|\"%s\"| m_%s\n", mermaidID(u.From), mermaidText(strings.Join(u.Types, ", ")), mermaidID(u.To))
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
