package report

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/acme/monolith/bench/load"
)

func sample() *Run {
	m := &Measure{Result: load.Result{Requests: 100, Rate: 900, P50: time.Millisecond, P99: 3 * time.Millisecond}, CPUPerReqUS: 120, PeakRSS: 30 << 20}
	b := &Measure{Result: load.Result{Requests: 100, Rate: 1000}}
	return &Run{
		Started: time.Unix(0, 0), Commit: "abc", CPUs: 2,
		Databases: []DBRun{{Name: "postgres", Scenarios: []Scenario{
			{Name: "GET /api/users/me", App: m, Baseline: b, BaseName: "bench/baseline", Ratio: 0.9},
			{Name: "refresh <rotation> & more", NA: "n/a (no refresh grant)"},
		}}},
		GoBenchmarks: []GoBenchmark{
			{Name: "BenchmarkReadAllocs", DB: "sqlite", Command: "go test -bench '^(ReadAllocs)$/^(postgres|sqlite3)$'", Metrics: map[string]float64{"ratio": 1.6, "app-allocs/read": 200}},
			{Name: "BenchmarkThroughput", DB: "postgres", Command: "go test -bench Throughput", Err: "failed: exit status 1"},
		},
		Budgets: []Budget{{Name: "read path", Goal: ">= 0.8x", Value: "0.90x", Pass: true}, {Name: "allocs", Goal: "<= 1.5x", Value: "1.60x"}},
	}
}

// TestWriteProducesValidSVGAndSummary parses the chart as XML (a label
// with markup characters must be escaped) and checks the summary carries
// the ratio and the n/a scenario.
func TestWriteProducesValidSVGAndSummary(t *testing.T) {
	dir := t.TempDir()
	r := sample()
	r.Databases[0].Scenarios[0].Name = "GET <me> & co"
	r.Databases[0].Replicas = &Replicas{After: 7, Rounds: []ReplicaRound{{Change: "take the role", After: 7, Stale: 1, LagMS: -0.25}},
		ReadAlone: &Measure{Result: load.Result{Rate: 1000}}, ReadUnderEdits: &Measure{Result: load.Result{Rate: 800}}, EditsPerS: 30}
	if err := r.Write(dir); err != nil {
		t.Fatal(err)
	}
	svg, _ := os.ReadFile(filepath.Join(dir, "chart.svg"))
	var doc struct{ XMLName xml.Name }
	if err := xml.Unmarshal(svg, &doc); err != nil || doc.XMLName.Local != "svg" {
		t.Fatalf("chart is not valid SVG: %v", err)
	}
	if !strings.Contains(string(svg), "0.90x") {
		t.Fatal("chart lacks the ratio")
	}
	md, _ := os.ReadFile(filepath.Join(dir, "summary.md"))
	for _, want := range []string{"0.90x", "n/a (no refresh grant)", "noisy", "chart.svg",
		// every budget, the missed one marked, with the commit measured
		"Measured on commit `abc`", "| allocs | <= 1.5x | 1.60x | **miss** |",
		"| take the role | 7 | 1 | 0 | -0.25 |", "1000 req/s alone, 800 req/s (0.80x, 0 errors)",
		"| BenchmarkReadAllocs | sqlite | 200 app-allocs/read, 1.6 ratio | `go test -bench '^(ReadAllocs)$/^(postgres\\|sqlite3)$'` |",
		"| BenchmarkThroughput | postgres | failed: exit status 1 |",
	} {
		if !strings.Contains(string(md), want) {
			t.Fatalf("summary lacks %q:\n%s", want, md)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "results.json")); err != nil {
		t.Fatal(err)
	}
}

// TestHeadlineSplicesEveryBudget: the README block is replaced whole, keeps
// what surrounds it, carries every budget with its verdict and the commit.
func TestHeadlineSplicesEveryBudget(t *testing.T) {
	r := sample()
	r.Budgets = append(r.Budgets, Budget{Name: "idle RSS", Goal: "<= 30 MB", Value: "35.0 MiB", Pass: false}, Budget{Name: "a|b", Goal: "0", Value: "0", Pass: true})
	var body strings.Builder
	r.Headline(&body)
	doc := []byte("# Title\n\nbefore\n" + HeadlineStart + "\nold | table\n" + HeadlineEnd + "\nafter\n")
	out, err := SpliceHeadline(doc, []byte(body.String()))
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{"before\n" + HeadlineStart + "\nLast run:", "`abc`", "2 of 4 budgets met", "| a\\|b | 0 | 0 | met |", "| read path | >= 0.8x | 0.90x | met |", "| idle RSS | <= 30 MB | 35.0 MiB | **missed** |", HeadlineEnd + "\nafter\n"} {
		if !strings.Contains(s, want) {
			t.Fatalf("headline lacks %q:\n%s", want, s)
		}
	}
	if strings.Contains(s, "old | table") {
		t.Fatalf("the old headline survived:\n%s", s)
	}
	again, err := SpliceHeadline(out, []byte(body.String()))
	if err != nil || string(again) != s {
		t.Fatalf("splicing twice changed the document: %v", err)
	}
	if _, err := SpliceHeadline([]byte("no markers\n"), []byte("x")); err == nil {
		t.Fatal("a README without markers was accepted")
	}
}
