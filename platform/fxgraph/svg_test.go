package fxgraph

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
)

// sample has a chain (web -> users -> store -> platform), a fan-in on
// platform, a cycle (users <-> auth) and a module nobody uses.
func sample() *Graph {
	g := &Graph{}
	for _, name := range []string{"platform", "store", "users", "auth", "web", "lonely"} {
		m := Module{Name: name}
		for i := range 3 {
			id := fmt.Sprintf("%s_%d", name, i)
			m.Providers = append(m.Providers, id)
			g.Providers = append(g.Providers, Provider{ID: id, Module: name, Constructor: name + ".New" + fmt.Sprint(i), Outputs: []string{"*" + name + ".T" + fmt.Sprint(i)}})
		}
		if name == "users" {
			m.Routes = []Route{{Method: "GET", Path: "/api/users/me"}, {Method: "PATCH", Path: "/api/users/{id}"}}
			m.Hooks = []Hook{{RegisteredBy: "users.NewWorker", OnStart: true, OnStop: true}}
		}
		g.Modules = append(g.Modules, m)
	}
	use := func(from, to string, types ...string) {
		g.Uses = append(g.Uses, Use{From: from, To: to, Types: types})
		g.provider(to + "_0").Consumers = append(g.provider(to+"_0").Consumers, from+"_1")
	}
	use("web", "users", "*users.Service")
	use("users", "store", "*store.Client", "store.Tx")
	use("store", "platform", "*zap.Logger")
	use("users", "platform", "config.Config")
	use("auth", "platform", "*zap.Logger")
	use("users", "auth", "authn.TokenVerifier")
	use("auth", "users", "authn.Directory")
	return g
}

func TestLayoutKeepsBoxesApartAndArrowsForward(t *testing.T) {
	g := sample()
	var boxes []*box
	var arrows []arrow
	index := map[string]int{}
	for i, m := range g.Modules {
		index[m.Name] = i
		boxes = append(boxes, &box{id: m.Name, title: m.Name, lines: m.summary()})
	}
	for _, u := range g.Uses {
		arrows = append(arrows, arrow{from: index[u.From], to: index[u.To], label: u.Types})
	}
	boxes, w, h := layout(boxes, arrows)
	for i, a := range boxes {
		if a.x < 0 || a.y < 0 || a.x+a.w > w || a.y+a.h > h {
			t.Errorf("%s at (%.0f,%.0f %.0fx%.0f) is outside the %.0fx%.0f picture", a.id, a.x, a.y, a.w, a.h, w, h)
		}
		for _, b := range boxes[i+1:] {
			if a.x < b.x+b.w && b.x < a.x+a.w && a.y < b.y+b.h && b.y < a.y+a.h {
				t.Errorf("%s and %s overlap", a.id, b.id)
			}
		}
		for _, l := range a.lines {
			if textWidth(l) > a.w {
				t.Errorf("%s: line %q is wider than its box", a.id, l)
			}
		}
	}
	backs := 0
	for _, a := range arrows {
		if a.back {
			backs++
			continue
		}
		// Every step of a forward arrow, through the columns it crosses,
		// goes right by one column.
		path := append(append([]int{a.from}, a.via...), a.to)
		for i := 1; i < len(path); i++ {
			from, to := boxes[path[i-1]], boxes[path[i]]
			if to.x <= from.x+from.w || to.rank != from.rank+1 {
				t.Errorf("%s -> %s: a step from column %d to %d, or leftwards", boxes[a.from].id, boxes[a.to].id, from.rank, to.rank)
			}
		}
	}
	if backs != 1 {
		t.Errorf("%d back arrows, want 1 (the users <-> auth cycle)", backs)
	}
}

func TestSVGIsWellFormedCompleteAndStable(t *testing.T) {
	for _, level := range Levels {
		t.Run(level, func(t *testing.T) {
			out := SVG(sample(), level)
			if again := SVG(sample(), level); again != out {
				t.Fatal("two renders of one graph differ")
			}
			dec := xml.NewDecoder(strings.NewReader(out))
			nodes, edges := 0, 0
			var width, height float64
			attr := func(el xml.StartElement, name string) float64 {
				for _, a := range el.Attr {
					if a.Name.Local == name {
						f, err := strconv.ParseFloat(a.Value, 64)
						if err != nil {
							t.Fatalf("%s=%q: %v", name, a.Value, err)
						}
						return f
					}
				}
				return 0
			}
			for {
				tok, err := dec.Token()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatalf("not well-formed XML: %v\n%s", err, out)
				}
				if el, ok := tok.(xml.StartElement); ok && el.Name.Local == "svg" {
					width, height = attr(el, "width"), attr(el, "height")
				}
				// Every text starts inside the picture (labels moved apart
				// or lanes added below must grow it).
				if el, ok := tok.(xml.StartElement); ok && el.Name.Local == "text" {
					if x, y := attr(el, "x"), attr(el, "y"); x < 0 || y < 0 || x > width || y > height {
						t.Errorf("text at (%.0f,%.0f) outside the %.0fx%.0f picture", x, y, width, height)
					}
				}
				if el, ok := tok.(xml.StartElement); ok && el.Name.Local == "g" {
					for _, a := range el.Attr {
						if a.Name.Local == "class" && a.Value == "node" {
							nodes++
						}
						if a.Name.Local == "class" && a.Value == "edge" {
							edges++
						}
					}
				}
			}
			wantNodes, wantEdges := 6, 7
			if level == "provider" {
				wantNodes = 18
			}
			if nodes != wantNodes || edges != wantEdges {
				t.Errorf("%d nodes and %d edges, want %d and %d", nodes, edges, wantNodes, wantEdges)
			}
			for _, want := range []string{"users (3 providers)", "GET /api/users/me", "hook OnStart+OnStop (users.NewWorker)", "authn.TokenVerifier"} {
				if level == "module" && !strings.Contains(out, want) {
					t.Errorf("module picture lacks %q", want)
				}
			}
			if level == "provider" && (!strings.Contains(out, "users.New1") || !strings.Contains(out, "*store.T0")) {
				t.Error("provider picture lacks a constructor or its output")
			}
		})
	}
}
