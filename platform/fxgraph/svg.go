package fxgraph

import (
	"fmt"
	"html"
	"slices"
	"strings"
	"unicode/utf8"
)

// The SVG picture is laid out here, in Go, rather than by Graphviz: the
// Graphviz library compiles a WebAssembly module in its package init, which
// cost every start of the binary (serve included) ~35 ms and ~17 MiB of
// resident memory, and wrote a compilation cache under $TMPDIR.
//
// The layout is the classic layered one: consumers left of what they
// consume, one column per rank (longest path from a source; cycles broken
// where the fewest type names are lost), rows ordered by a few barycenter
// sweeps to shorten edges, long arrows routed through the columns they
// cross, and arrows that close a cycle drawn in lanes under the boxes.
// A monospace font makes text widths predictable without font metrics.

const (
	fontSize   = 11.0
	charWidth  = fontSize * 0.6 // monospace advance
	lineHeight = 15.0
	padX       = 6.0
	padY       = 4.0
	margin     = 12.0
	rowGap     = 18.0
	colGap     = 70.0
	sweeps     = 4
)

// palette colours a provider-level box by its module; the module level
// uses the first colour for every header.
var palette = []string{"#dde7f5", "#e3f1dc", "#fbe8d3", "#efe0f3", "#fdf3c4", "#d9f0ef", "#f6dede", "#e8e8e8"}

// groupColour is the palette index of a value group's header (the page
// draws groups in the same yellow).
const groupColour = 4

// eventColour is the palette index of a domain event's header.
const eventColour = 3

type box struct {
	// virtual boxes carry a long arrow through the columns it crosses, so
	// that it takes a row there instead of running under a real box.
	virtual bool
	id      string
	title   string   // bold first line
	lines   []string // plain lines under it
	group   int      // module index: colour and initial order
	rank    int
	order   float64
	x, y    float64
	w, h    float64
}

type arrow struct {
	from, to int // indexes into the boxes
	label    []string
	back     bool // breaks a cycle: drawn below the boxes, in its own lane
	// A back arrow leaves its source's bottom at x0, runs along y = lane and
	// enters its target's bottom at x1.
	x0, x1, lane float64
	via          []int // virtual boxes a forward arrow passes, left to right
	// A forward arrow leaves its source's right side at outY and enters its
	// target's left side at inY: arrows sharing a box get separate ports.
	outY, inY float64
}

// SVG draws g at level ("module" or "provider") as a standalone SVG image.
// Its output depends only on g, so a committed picture can be compared with
// a fresh one.
func SVG(g *Graph, level string) string {
	var boxes []*box
	var arrows []arrow
	index := map[string]int{}
	if level == "module" {
		v := ModuleView(g)
		for i, n := range v.Nodes {
			index[n.ID] = i
			b := &box{id: n.ID, title: nodeTitle(n), lines: g.nodeLines(n)}
			switch n.Kind {
			case KindGroup:
				b.group = groupColour
			case KindEvent:
				b.group = eventColour
			}
			boxes = append(boxes, b)
		}
		for _, e := range v.Edges {
			from, okF := index[e.From]
			to, okT := index[e.To]
			if okF && okT {
				arrows = append(arrows, arrow{from: from, to: to, label: edgeText(e)})
			}
		}
	} else {
		for gi, m := range g.Modules {
			for _, pid := range m.Providers {
				p := g.provider(pid)
				if p == nil {
					continue
				}
				index[p.ID] = len(boxes)
				boxes = append(boxes, &box{id: p.ID, title: p.Constructor, lines: p.Outputs, group: gi})
			}
		}
		for _, p := range g.Providers {
			to, ok := index[p.ID]
			if !ok {
				continue
			}
			for _, c := range p.Consumers {
				if from, ok := index[c]; ok {
					arrows = append(arrows, arrow{from: from, to: to})
				}
			}
		}
	}
	boxes, width, height := layout(boxes, arrows)
	legend := 0.0
	if level == "provider" {
		legend = lineHeight + rowGap
	}
	return draw(g, level, boxes, arrows, width, height+legend, legend)
}

func textWidth(s string) float64 { return float64(utf8.RuneCountInString(s)) * charWidth }

// layout ranks, orders and places the boxes, adding a virtual box in each
// column a forward arrow crosses; it returns the boxes and the picture's
// size.
func layout(boxes []*box, arrows []arrow) (all []*box, width, height float64) {
	for _, b := range boxes {
		b.w = textWidth(b.title)
		for _, l := range b.lines {
			b.w = max(b.w, textWidth(l))
		}
		b.w += 2 * padX
		b.h = float64(1+len(b.lines))*lineHeight + 2*padY
	}
	breakCycles(len(boxes), arrows)
	rankBoxes(boxes, arrows)
	var segments [][2]int // arrows between adjacent columns, for ordering
	for i := range arrows {
		a := &arrows[i]
		if a.back || a.from == a.to {
			continue
		}
		prev := a.from
		for r := boxes[a.from].rank + 1; r < boxes[a.to].rank; r++ {
			boxes = append(boxes, &box{virtual: true, id: "via", rank: r, group: boxes[a.from].group, h: lineHeight})
			a.via = append(a.via, len(boxes)-1)
			segments = append(segments, [2]int{prev, len(boxes) - 1})
			prev = len(boxes) - 1
		}
		segments = append(segments, [2]int{prev, a.to})
	}

	maxRank := 0
	for _, b := range boxes {
		maxRank = max(maxRank, b.rank)
	}
	columns := make([][]*box, maxRank+1)
	for i, b := range boxes {
		b.order = float64(b.group*len(boxes) + i)
		columns[b.rank] = append(columns[b.rank], b)
	}
	orderColumns(boxes, segments, columns)

	// Columns are as wide as their widest box, separated by room for the
	// widest label of the arrows that leave them.
	x := margin
	tallest := 0.0
	for r, col := range columns {
		colW, colH := 0.0, 0.0
		for _, b := range col {
			colW = max(colW, b.w)
			colH += b.h + rowGap
		}
		tallest = max(tallest, colH-rowGap)
		for _, b := range col {
			b.x = x
			if b.virtual {
				b.w = colW
			}
		}
		gap := colGap
		for _, a := range arrows {
			if boxes[a.from].rank == r && !a.back {
				for _, l := range a.label {
					gap = max(gap, textWidth(l)+2*colGap/3)
				}
			}
		}
		x += colW
		if r < len(columns)-1 {
			x += gap
		}
	}
	for _, col := range columns {
		colH := -rowGap
		for _, b := range col {
			colH += b.h + rowGap
		}
		y := margin + (tallest-colH)/2
		for _, b := range col {
			b.y = y
			y += b.h + rowGap
		}
	}
	assignPorts(boxes, arrows)
	return boxes, x + margin, routeBackArrows(boxes, arrows, margin+tallest) + margin
}

// assignPorts spreads the forward arrows that leave (enter) a box along its
// right (left) side, in the vertical order of where they go (come from),
// so that they neither share a start nor cross at the box.
func assignPorts(boxes []*box, arrows []arrow) {
	next := func(a arrow) *box { // the box after the source
		if len(a.via) > 0 {
			return boxes[a.via[0]]
		}
		return boxes[a.to]
	}
	prev := func(a arrow) *box { // the box before the target
		if len(a.via) > 0 {
			return boxes[a.via[len(a.via)-1]]
		}
		return boxes[a.from]
	}
	spread := func(b *box, ids []int, neighbour func(arrow) *box, set func(*arrow, float64)) {
		slices.SortStableFunc(ids, func(i, j int) int {
			return int(neighbour(arrows[i]).y+neighbour(arrows[i]).h/2) - int(neighbour(arrows[j]).y+neighbour(arrows[j]).h/2)
		})
		for k, i := range ids {
			set(&arrows[i], b.y+b.h*float64(k+1)/float64(len(ids)+1))
		}
	}
	for bi, b := range boxes {
		var out, in []int
		for i, a := range arrows {
			if a.back || a.from == a.to {
				continue
			}
			if a.from == bi {
				out = append(out, i)
			}
			if a.to == bi {
				in = append(in, i)
			}
		}
		spread(b, out, next, func(a *arrow, y float64) { a.outY = y })
		spread(b, in, prev, func(a *arrow, y float64) { a.inY = y })
	}
}

// routeBackArrows gives each back arrow its own horizontal lane under the
// boxes, tall enough for its label, and spreads the arrow ends along the
// bottom of each box. It returns the bottom of the last lane.
func routeBackArrows(boxes []*box, arrows []arrow, bottom float64) float64 {
	ends := make([]int, len(boxes))
	for _, a := range arrows {
		if a.back || a.from == a.to {
			ends[a.from]++
			ends[a.to]++
		}
	}
	used := make([]int, len(boxes))
	slot := func(b int) float64 {
		used[b]++
		return boxes[b].x + boxes[b].w*float64(used[b])/float64(ends[b]+1)
	}
	for i := range arrows {
		a := &arrows[i]
		if !a.back && a.from != a.to {
			continue
		}
		h := float64(max(1, len(a.label))) * lineHeight
		a.x0, a.x1 = slot(a.from), slot(a.to)
		a.lane = bottom + rowGap + h/2
		bottom += rowGap + h
	}
	return bottom
}

// breakCycles marks the arrows that close a cycle, which ranking ignores
// and which are drawn as back arrows. It orders the boxes with the greedy
// heuristic of Eades, Lin and Smyth (sinks last, sources first, otherwise
// the box with the most outgoing minus incoming weight) and marks every
// arrow that points backwards in that order. Weights are label lines, so
// the arrows that carry most stay forward.
func breakCycles(n int, arrows []arrow) {
	weight := func(a arrow) int { return max(1, len(a.label)) }
	placed := make([]bool, n)
	degree := func(v int) (in, out int) {
		for _, a := range arrows {
			if a.from == a.to {
				continue
			}
			if a.from == v && !placed[a.to] {
				out += weight(a)
			}
			if a.to == v && !placed[a.from] {
				in += weight(a)
			}
		}
		return in, out
	}
	var left, right []int
	for len(left)+len(right) < n {
		progress := false
		for v := range n {
			if _, out := degree(v); !placed[v] && out == 0 {
				right = append([]int{v}, right...)
				placed[v] = true
				progress = true
			}
		}
		for v := range n {
			if in, _ := degree(v); !placed[v] && in == 0 {
				left = append(left, v)
				placed[v] = true
				progress = true
			}
		}
		if progress {
			continue
		}
		best, bestScore := -1, 0
		for v := range n {
			if placed[v] {
				continue
			}
			in, out := degree(v)
			if best < 0 || out-in > bestScore {
				best, bestScore = v, out-in
			}
		}
		left = append(left, best)
		placed[best] = true
	}
	position := make([]int, n)
	for i, v := range append(left, right...) {
		position[v] = i
	}
	for i, a := range arrows {
		arrows[i].back = a.from != a.to && position[a.to] < position[a.from]
	}
}

// rankBoxes gives each box the length of the longest forward path that
// reaches it, so every forward arrow points right.
func rankBoxes(boxes []*box, arrows []arrow) {
	for changed := true; changed; {
		changed = false
		for _, a := range arrows {
			if a.back || a.from == a.to {
				continue
			}
			if r := boxes[a.from].rank + 1; boxes[a.to].rank < r {
				boxes[a.to].rank = r
				changed = true
			}
		}
	}
}

// orderColumns sorts each column by the mean position of its neighbours in
// the previous (then the next) column, a few times each way.
func orderColumns(boxes []*box, segments [][2]int, columns [][]*box) {
	sortColumn := func(col []*box) {
		slices.SortStableFunc(col, func(a, b *box) int {
			switch {
			case a.order < b.order:
				return -1
			case a.order > b.order:
				return 1
			}
			return 0
		})
		for i, b := range col {
			b.order = float64(i)
		}
	}
	for _, col := range columns {
		sortColumn(col)
	}
	barycenter := func(b *box, towards int) {
		sum, n := 0.0, 0
		for _, seg := range segments {
			from, to := boxes[seg[0]], boxes[seg[1]]
			switch {
			case from == b && to.rank == b.rank+towards:
				sum, n = sum+to.order, n+1
			case to == b && from.rank == b.rank+towards:
				sum, n = sum+from.order, n+1
			}
		}
		if n > 0 {
			b.order = sum / float64(n)
		}
	}
	for range sweeps {
		for r := 1; r < len(columns); r++ {
			for _, b := range columns[r] {
				barycenter(b, -1)
			}
			sortColumn(columns[r])
		}
		for r := len(columns) - 2; r >= 0; r-- {
			for _, b := range columns[r] {
				barycenter(b, +1)
			}
			sortColumn(columns[r])
		}
	}
}

func num(f float64) string { return fmt.Sprintf("%.1f", f) }

func draw(g *Graph, level string, boxes []*box, arrows []arrow, width, height, top float64) string {
	// The body first: the labels, once moved apart, and the legend may need
	// a larger picture than the layout's.
	var body strings.Builder
	if level == "provider" {
		x := margin
		for i, m := range g.Modules {
			fmt.Fprintf(&body, `<rect x="%s" y="%s" width="%s" height="%s" fill="%s" stroke="#333333"/><text x="%s" y="%s">%s</text>`+"\n",
				num(x), num(margin), num(charWidth*1.5), num(lineHeight-4), palette[i%len(palette)],
				num(x+charWidth*2), num(margin+lineHeight-5), html.EscapeString(m.Name))
			x += textWidth(m.Name) + charWidth*5
		}
		width = max(width, x+margin)
	}
	paths := make([]string, len(arrows))
	labels := make([]edgeLabel, len(arrows))
	for i, a := range arrows {
		paths[i], labels[i] = arrowPath(boxes, a, top)
	}
	separate(labels)
	for i := range arrows {
		body.WriteString(`<g class="edge">` + paths[i])
		drawLabel(&body, labels[i])
		body.WriteString("</g>\n")
		height = max(height, labels[i].y+labels[i].h/2+margin)
	}
	for _, b := range boxes {
		if b.virtual {
			continue
		}
		y := b.y + top
		fmt.Fprintf(&body, `<g class="node" id="%s"><title>%s</title>`, html.EscapeString(b.id), html.EscapeString(b.id))
		fmt.Fprintf(&body, `<rect x="%s" y="%s" width="%s" height="%s" rx="3" fill="white" stroke="#333333"/>`, num(b.x), num(y), num(b.w), num(b.h))
		fmt.Fprintf(&body, `<rect x="%s" y="%s" width="%s" height="%s" rx="3" fill="%s"/>`, num(b.x+0.5), num(y+0.5), num(b.w-1), num(lineHeight+padY), palette[b.group%len(palette)])
		fmt.Fprintf(&body, `<text x="%s" y="%s" font-weight="bold">%s</text>`, num(b.x+padX), num(y+padY+lineHeight-4), html.EscapeString(b.title))
		for i, l := range b.lines {
			fmt.Fprintf(&body, `<text x="%s" y="%s">%s</text>`, num(b.x+padX), num(y+padY+float64(i+2)*lineHeight-4), html.EscapeString(l))
		}
		body.WriteString("</g>\n")
	}

	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%s" height="%s" viewBox="0 0 %s %s" font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" font-size="%s">`+"\n",
		num(width), num(height), num(width), num(height), num(fontSize))
	fmt.Fprintf(&s, "<title>fx dependency graph, %s level</title>\n", html.EscapeString(level))
	s.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555555"/></marker></defs>` + "\n")
	s.WriteString(`<rect width="100%" height="100%" fill="white"/>` + "\n")
	s.WriteString(body.String())
	s.WriteString("</svg>\n")
	return s.String()
}

// edgeLabel is an arrow's label: lines centred on (x, y), w by h.
type edgeLabel struct {
	lines      []string
	x, y, w, h float64
	gap        int // the column gap it sits in; -1 for a back arrow's lane
}

// arrowPath draws a forward arrow as curves from the right side of its
// source through its virtual boxes to the left side of its target, labelled
// in the first gap, and a back arrow along its lane under the boxes,
// labelled there.
func arrowPath(boxes []*box, a arrow, top float64) (path string, l edgeLabel) {
	from, to := boxes[a.from], boxes[a.to]
	var p strings.Builder
	if a.back || a.from == a.to {
		y0, y1, lane := from.y+from.h+top, to.y+to.h+top, a.lane+top
		fmt.Fprintf(&p, `<path d="M%s,%s V%s H%s V%s" fill="none" stroke="#555555" stroke-dasharray="4 2" marker-end="url(#arrow)"/>`,
			num(a.x0), num(y0), num(lane), num(a.x1), num(y1))
		l = edgeLabel{x: (a.x0 + a.x1) / 2, y: lane, gap: -1}
	} else {
		x, y := from.x+from.w, a.outY+top
		fmt.Fprintf(&p, `<path d="M%s,%s`, num(x), num(y))
		// A curve with horizontal ends into each next box's left side, then
		// straight across a virtual box.
		for i, bi := range append(slices.Clone(a.via), a.to) {
			b := boxes[bi]
			nx, ny := b.x, b.y+b.h/2+top
			if bi == a.to {
				ny = a.inY + top
			}
			cx := x + (nx-x)/2
			fmt.Fprintf(&p, ` C%s,%s %s,%s %s,%s`, num(cx), num(y), num(cx), num(ny), num(nx), num(ny))
			if i == 0 {
				l = edgeLabel{x: cx, y: (y + ny) / 2, gap: from.rank} // the first curve's midpoint
			}
			x, y = nx, ny
			if b.virtual {
				x = b.x + b.w
				fmt.Fprintf(&p, ` H%s`, num(x))
			}
		}
		p.WriteString(`" fill="none" stroke="#555555" marker-end="url(#arrow)"/>`)
	}
	l.lines = a.label
	for _, line := range a.label {
		l.w = max(l.w, textWidth(line))
	}
	l.h = float64(len(a.label)) * lineHeight
	return p.String(), l
}

// separate moves labels in the same gap apart vertically, in their order.
func separate(labels []edgeLabel) {
	order := make([]int, len(labels))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int {
		a, b := labels[i], labels[j]
		if a.gap != b.gap {
			return a.gap - b.gap
		}
		switch {
		case a.y < b.y:
			return -1
		case a.y > b.y:
			return 1
		}
		return 0
	})
	for k := 1; k < len(order); k++ {
		prev, cur := &labels[order[k-1]], &labels[order[k]]
		if cur.gap < 0 || cur.gap != prev.gap || prev.h == 0 || cur.h == 0 {
			continue
		}
		if low := prev.y + prev.h/2 + 2; cur.y-cur.h/2 < low {
			cur.y = low + cur.h/2
		}
	}
}

func drawLabel(s *strings.Builder, l edgeLabel) {
	if len(l.lines) == 0 {
		return
	}
	fmt.Fprintf(s, `<rect x="%s" y="%s" width="%s" height="%s" fill="white" fill-opacity="0.9"/>`, num(l.x-l.w/2-2), num(l.y-l.h/2), num(l.w+4), num(l.h))
	for i, line := range l.lines {
		fmt.Fprintf(s, `<text x="%s" y="%s" text-anchor="middle" fill="#333333">%s</text>`, num(l.x), num(l.y-l.h/2+float64(i+1)*lineHeight-4), html.EscapeString(line))
	}
}
