package report

import (
	"fmt"
	"html"
	"strings"
)

// SVG renders each scenario's ratio to its baseline as a horizontal bar,
// with the 1.0 line (parity with the baseline) marked.
func (r *Run) SVG() string {
	type bar struct {
		label string
		ratio float64
	}
	var bars []bar
	for _, db := range r.Databases {
		for _, s := range db.Scenarios {
			if s.Ratio > 0 {
				bars = append(bars, bar{db.Name + " · " + s.Name, s.Ratio})
			}
		}
	}
	const barH, gap, top = 22, 8, 40
	// Room for the longest label, at about 7 px a character at 12 px.
	left := 300
	for _, b := range bars {
		left = max(left, 7*len([]rune(b.label))+12)
	}
	width := left + 460
	maxR := 1.25
	for _, b := range bars {
		maxR = max(maxR, b.ratio*1.05)
	}
	plotW := float64(width - left - 70)
	x := func(v float64) float64 { return float64(left) + v/maxR*plotW }
	height := top + len(bars)*(barH+gap) + 30
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&sb, `<rect width="100%%" height="100%%" fill="#fff"/>`+"\n")
	fmt.Fprintf(&sb, `<text x="10" y="20" font-size="14" font-weight="bold">Throughput as a ratio to its baseline (same run, same machine)</text>`+"\n")
	for i, b := range bars {
		y := top + i*(barH+gap)
		color := "#4c78a8"
		if b.ratio < 0.8 {
			color = "#e45756"
		}
		fmt.Fprintf(&sb, `<text x="%d" y="%d" text-anchor="end">%s</text>`+"\n", left-8, y+barH-6, html.EscapeString(b.label))
		fmt.Fprintf(&sb, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", left, y, x(b.ratio)-float64(left), barH, color)
		fmt.Fprintf(&sb, `<text x="%.1f" y="%d">%.2fx</text>`+"\n", x(b.ratio)+4, y+barH-6, b.ratio)
	}
	bottom := top + len(bars)*(barH+gap)
	fmt.Fprintf(&sb, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#333" stroke-dasharray="4 3"/>`+"\n", x(1), top-6, x(1), bottom)
	fmt.Fprintf(&sb, `<text x="%.1f" y="%d" text-anchor="middle">1.0 = baseline</text>`+"\n", x(1), bottom+16)
	sb.WriteString("</svg>\n")
	return sb.String()
}
