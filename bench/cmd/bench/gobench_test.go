package main

import (
	"strings"
	"testing"

	"github.com/acme/monolith/bench/report"
)

// The output of `go test -bench` as the three benchmarks print it, with
// the noise around result lines that the parser must skip.
const benchOutput = `goos: linux
goarch: amd64
pkg: example.com/shop/platform/jobs
cpu: AMD EPYC
BenchmarkThroughput/sqlite3-2         	       3	         0 ns/op	      1046 platform-jobs/s	         0.9183 ratio	      1139 river-jobs/s
BenchmarkThroughput/postgres-2        	       3	         0 ns/op	      1244 platform-jobs/s	         1.032 ratio	      1205 river-jobs/s
BenchmarkEnqueueInWrite/postgres      	     200	         0 ns/op	         2.336 ratio	      1589 write+enqueue-µs	       680.0 write-µs
    bench_test.go:12: a log line
BenchmarkReadAllocs/sqlite3-2   	   10000	    101234 ns/op	       200.0 app-allocs/read	       125.0 baseline-allocs/read	         1.600 ratio	   12345 B/op	     200 allocs/op
PASS
ok  	example.com/shop/platform/jobs	12.3s
`

func TestParseBenchOutput(t *testing.T) {
	got := parseBenchOutput(benchOutput)
	if len(got) != 4 {
		t.Fatalf("parsed %d results, want 4: %+v", len(got), got)
	}
	want := []struct {
		name, db, unit string
		v              float64
	}{
		{"BenchmarkThroughput", "sqlite", "ratio", 0.9183},
		{"BenchmarkThroughput", "postgres", "river-jobs/s", 1205},
		{"BenchmarkEnqueueInWrite", "postgres", "write-µs", 680}, // no GOMAXPROCS suffix
		{"BenchmarkReadAllocs", "sqlite", "allocs/op", 200},
	}
	for i, w := range want {
		if got[i].Name != w.name || got[i].DB != w.db || got[i].Metrics[w.unit] != w.v {
			t.Errorf("result %d = %+v, want %s/%s %s=%v", i, got[i], w.name, w.db, w.unit, w.v)
		}
	}
}

func TestGoBenchBudgets(t *testing.T) {
	bs := goBenchBudgets(append(parseBenchOutput(benchOutput),
		report.GoBenchmark{Name: "BenchmarkEnqueueInWrite", DB: "sqlite", Err: "failed: exit status 1"}))
	byName := map[string]report.Budget{}
	for _, b := range bs {
		byName[b.Name] = b
	}
	for name, pass := range map[string]bool{
		"sqlite: jobs/s through the platform vs a bare River client":   true,  // 0.92x >= 0.80x
		"postgres: jobs/s through the platform vs a bare River client": true,  // 1.03x
		"postgres: an enqueue in a write's transaction adds":           true,  // 0.91 ms <= 1 ms
		"sqlite: allocations per authenticated read vs baseline":       false, // 1.60x > 1.5x
		"sqlite: an enqueue in a write's transaction adds":             false, // did not run: a miss, not a gap
	} {
		b, ok := byName[name]
		if !ok {
			t.Errorf("no budget %q in %+v", name, bs)
			continue
		}
		if b.Pass != pass || b.Value == "" {
			t.Errorf("%s: %+v, want pass=%t with a value", name, b, pass)
		}
	}
	if v := byName["postgres: an enqueue in a write's transaction adds"].Value; !strings.HasPrefix(v, "0.91 ms") {
		t.Errorf("enqueue value %q, want the added time first", v)
	}
}

// TestMissingDatabaseIsAFailure: Postgres unreachable makes testkit run
// SQLite alone, and go test still succeeds; the Postgres budget must then
// be a miss, not absent.
func TestMissingDatabaseIsAFailure(t *testing.T) {
	rs := parseBenchOutput("BenchmarkThroughput/sqlite3-2  3  0 ns/op  1000 platform-jobs/s  1100 river-jobs/s  0.9 ratio\n")
	withMissing(&rs, []string{"BenchmarkThroughput"}, []string{"postgres", "sqlite"}, "go test", "failed: no result line")
	bs := goBenchBudgets(rs)
	if len(bs) != 2 || bs[0].Name != "sqlite: jobs/s through the platform vs a bare River client" || !bs[0].Pass ||
		bs[1].Name != "postgres: jobs/s through the platform vs a bare River client" || bs[1].Pass || bs[1].Value != "failed: no result line" {
		t.Fatalf("budgets %+v", bs)
	}
}

// TestMissingMetricIsAMiss: a benchmark that ran but did not report a
// metric (renamed, or not printed) is a miss, not a pass on a zero.
func TestMissingMetricIsAMiss(t *testing.T) {
	for _, g := range []report.GoBenchmark{
		{Name: "BenchmarkEnqueueInWrite", DB: "sqlite", Metrics: map[string]float64{"write-µs": 300}},
		{Name: "BenchmarkThroughput", DB: "sqlite", Metrics: map[string]float64{"ratio": 1.2}},
		{Name: "BenchmarkReadAllocs", DB: "sqlite", Metrics: map[string]float64{"app-allocs/read": 80}},
	} {
		for _, b := range goBenchBudgets([]report.GoBenchmark{g}) {
			if b.Pass {
				t.Errorf("%s with metrics %v: %+v, want a miss", g.Name, g.Metrics, b)
			}
		}
	}
}
