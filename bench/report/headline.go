package report

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"
)

// Headline writes the short form of a run for the README: which commit
// was measured, how many budgets were met, and every budget.
func (r *Run) Headline(w io.Writer) {
	met := 0
	for _, b := range r.Budgets {
		if b.Pass {
			met++
		}
	}
	fmt.Fprintf(w, "Last run: %s on commit `%s` (%d CPUs, shared): **%d of %d budgets met**.\n\n",
		r.Started.UTC().Format(time.DateOnly), r.Commit, r.CPUs, met, len(r.Budgets))
	fmt.Fprintf(w, "| budget | goal | measured | |\n|---|---|---|---|\n")
	for _, b := range r.Budgets {
		mark := "met"
		if !b.Pass {
			mark = "**missed**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", cell(b.Name), cell(b.Goal), cell(b.Value), mark)
	}
}

// cell escapes what would end a markdown table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// Headline markers: the README keeps the generated headline between them.
const (
	HeadlineStart = "<!-- bench:headline:start (written by make bench) -->"
	HeadlineEnd   = "<!-- bench:headline:end -->"
)

// SpliceHeadline returns doc with what lies between the headline markers
// replaced by body; a document without both markers, in order, is an
// error rather than a silently unchanged README.
func SpliceHeadline(doc, body []byte) ([]byte, error) {
	start := bytes.Index(doc, []byte(HeadlineStart))
	end := bytes.Index(doc, []byte(HeadlineEnd))
	if start < 0 || end < start {
		return nil, fmt.Errorf("the headline markers %q and %q are missing or out of order", HeadlineStart, HeadlineEnd)
	}
	var out bytes.Buffer
	out.Write(doc[:start+len(HeadlineStart)])
	out.WriteString("\n")
	out.Write(bytes.TrimSpace(body))
	out.WriteString("\n")
	out.Write(doc[end:])
	return out.Bytes(), nil
}
