package main

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/acme/monolith/bench/report"
)

// goBench is one `go test -bench` invocation the harness runs: what is
// not a request path (the queue, allocations per read) is measured by the
// Go benchmarks that already compare both sides in one process and one
// run; the harness runs them with no server of its own running, after the
// load, and turns their metrics into budgets.
type goBench struct {
	pkg       string
	benchs    []string // top-level benchmark names
	benchtime string
}

// goBenches are the benchmarks and how long each runs: a count, so each is
// bounded by its work whatever the machine's noise (docs/performance.md
// gives the time each takes).
var goBenches = []goBench{
	{pkg: "./platform/jobs/", benchs: []string{"BenchmarkThroughput"}, benchtime: "5x"},
	{pkg: "./platform/jobs/", benchs: []string{"BenchmarkEnqueueInWrite"}, benchtime: "200x"},
	{pkg: "./bench/baseline/", benchs: []string{"BenchmarkReadAllocs"}, benchtime: "200x"},
}

// goBenchTimeout bounds one invocation, compilation included.
const goBenchTimeout = 10 * time.Minute

// testDialects maps the harness's database names to the sub-benchmark
// names testkit gives them (ent's dialect names).
var testDialects = map[string]string{"sqlite": "sqlite3", "postgres": "postgres"}

// runGoBenches runs every benchmark on the databases of -dbs.
func (h *harness) runGoBenches(ctx context.Context, dbs []string) {
	var subs []string
	for _, db := range dbs {
		if d, ok := testDialects[strings.TrimSpace(db)]; ok {
			subs = append(subs, d)
		}
	}
	if len(subs) == 0 {
		return
	}
	for _, gb := range goBenches {
		// Anchored per level: "BenchmarkThroughput" alone would also pick
		// any benchmark whose name it prefixes.
		pattern := "^(" + strings.Join(gb.benchs, "|") + ")$/^(" + strings.Join(subs, "|") + ")$"
		args := []string{"test", "-run", "^$", "-bench", pattern, "-benchtime", gb.benchtime, "-timeout", goBenchTimeout.String(), gb.pkg}
		command := "go " + strings.Join(quoteArgs(args), " ")
		log.Printf("go benchmarks: %s", command)
		out, err := h.goTest(ctx, args, dbs)
		results := parseBenchOutput(out)
		for i := range results {
			results[i].Command = command
		}
		// A database without its line (a failure, or Postgres unreachable
		// so testkit ran SQLite alone) is a missed budget, not a gap.
		msg := "failed: no result line for it in the output"
		if err != nil {
			msg = fmt.Sprintf("failed: %v", err)
		}
		n := len(results)
		withMissing(&results, gb.benchs, dbs, command, msg)
		if len(results) > n {
			log.Printf("%s %s\n%s", command, msg, tailString(out, 2000))
		}
		h.run.GoBenchmarks = append(h.run.GoBenchmarks, results...)
	}
}

func (h *harness) goTest(ctx context.Context, args, dbs []string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, goBenchTimeout+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...) //nolint:gosec // fixed tool and packages
	cmd.Dir = "."
	// The benchmarks create their databases on the harness's server and
	// only on the databases asked for.
	cmd.Env = append(os.Environ(), "TEST_DATABASE_URL="+h.o.pgURL, "TEST_DATABASE_DIRECT_URL=", "TEST_DIALECTS="+strings.Join(dbs, ","))
	var buf strings.Builder
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return buf.String(), err
}

// withMissing adds, for each benchmark and database without a result,
// one that carries msg as its error.
func withMissing(rs *[]report.GoBenchmark, benchs, dbs []string, command, msg string) {
	for _, b := range benchs {
		for _, db := range dbs {
			if !slices.ContainsFunc(*rs, func(r report.GoBenchmark) bool { return r.Name == b && r.DB == db }) {
				*rs = append(*rs, report.GoBenchmark{Name: b, DB: db, Command: command, Err: msg})
			}
		}
	}
}

// benchLine is a result line of the Go benchmark format
// (golang.org/design/14313-benchmark-format): the name with its
// GOMAXPROCS suffix, the iterations, then value-unit pairs.
var benchLine = regexp.MustCompile(`^(Benchmark[^\s/]+)/(\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// parseBenchOutput reads the sub-benchmark lines of `go test -bench`
// output (one level of sub-benchmark, named by the database) into their
// metrics. A handful of lines in a fixed format: a parser library would
// be a new dependency for the harness alone.
func parseBenchOutput(out string) []report.GoBenchmark {
	var rs []report.GoBenchmark
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		db := m[2]
		for name, d := range testDialects {
			if d == db {
				db = name
			}
		}
		f := strings.Fields(m[3])
		metrics := map[string]float64{}
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			metrics[f[i+1]] = v
		}
		rs = append(rs, report.GoBenchmark{Name: m[1], DB: db, Metrics: metrics})
	}
	return rs
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, "^$|() ") {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return out
}

func tailString(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// goBenchBudgets turns the Go benchmarks' metrics into the goals.
func goBenchBudgets(gbs []report.GoBenchmark) []report.Budget {
	var bs []report.Budget
	for _, g := range gbs {
		m := g.Metrics
		var b report.Budget
		switch g.Name {
		case "BenchmarkThroughput":
			b = report.Budget{Name: g.DB + ": jobs/s through the platform vs a bare River client", Goal: ">= 0.80x"}
			if g.Err == "" {
				b.Value = fmt.Sprintf("%.2fx (%.0f vs %.0f jobs/s)", m["ratio"], m["platform-jobs/s"], m["river-jobs/s"])
				b.Pass = m["ratio"] >= 0.8 && m["river-jobs/s"] > 0
			}
		case "BenchmarkEnqueueInWrite":
			// An absolute bound, not a ratio: a bare insert is so cheap
			// on SQLite that any enqueue is a large multiple of it, and
			// what a client sees is the time added to its request.
			b = report.Budget{Name: g.DB + ": an enqueue in a write's transaction adds", Goal: "<= 1 ms"}
			if g.Err == "" {
				added := m["write+enqueue-µs"] - m["write-µs"]
				b.Value = fmt.Sprintf("%.2f ms (write %.0f µs, with the enqueue %.0f µs: %.2fx)", added/1000, m["write-µs"], m["write+enqueue-µs"], m["ratio"])
				// Both must have been reported: a missing metric reads as 0.
				b.Pass = m["write-µs"] > 0 && m["write+enqueue-µs"] > 0 && added <= 1000
			}
		case "BenchmarkReadAllocs":
			b = report.Budget{Name: g.DB + ": allocations per authenticated read vs baseline", Goal: "<= 1.5x"}
			if g.Err == "" {
				b.Value = fmt.Sprintf("%.2fx (%.0f vs %.0f allocs/read)", m["ratio"], m["app-allocs/read"], m["baseline-allocs/read"])
				b.Pass = m["ratio"] > 0 && m["ratio"] <= 1.5
			}
		default:
			continue
		}
		if g.Err != "" {
			b.Value = g.Err
		}
		bs = append(bs, b)
	}
	return bs
}
