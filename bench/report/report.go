// Package report holds the benchmark's results: the JSON written to
// bench/results, the table printed to the terminal, the markdown summary
// the README links and a bar chart rendered as SVG by hand (no external
// tools on the machine).
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/acme/monolith/bench/load"
)

// Run is one `make bench`.
type Run struct {
	Started     time.Time `json:"started"`
	Commit      string    `json:"commit"`
	GoVersion   string    `json:"go_version"`
	CPUs        int       `json:"cpus"`
	Settings    Settings  `json:"settings"`
	Builds      []Build   `json:"builds"`
	RawHashRate float64   `json:"raw_argon2id_hashes_per_s"`
	Databases   []DBRun   `json:"databases"`
	// GoBenchmarks are the Go benchmarks the harness ran for what is not
	// a request path (the queue, allocations per read).
	GoBenchmarks []GoBenchmark `json:"go_benchmarks,omitempty"`
	Budgets      []Budget      `json:"budgets"`
	Notes        []string      `json:"notes"`
}

// GoBenchmark is one sub-benchmark's result: its custom metrics as
// reported by b.ReportMetric, by unit.
type GoBenchmark struct {
	Name    string             `json:"name"`
	DB      string             `json:"db"`
	Command string             `json:"command"`
	Metrics map[string]float64 `json:"metrics,omitempty"`
	Err     string             `json:"error,omitempty"`
}

// Replicas is an authorization change made on one replica and watched
// from another on the same database.
type Replicas struct {
	// Stale counts the second replica's answers, to requests it received
	// after the first replica's response to the change, that still showed
	// the state before it.
	Stale int `json:"stale_answers"`
	// After counts every answer to a request sent after that response.
	After  int            `json:"answers_after_change"`
	Errors int            `json:"unexpected_answers"`
	Rounds []ReplicaRound `json:"rounds"`
	// ReadAlone and ReadUnderEdits are B's GET /api/users/me, by itself
	// and while A edits a role's permissions one edit after another
	// (EditsPerS), each edit making every account cached on B reload.
	ReadAlone      *Measure `json:"b_read_alone,omitempty"`
	ReadUnderEdits *Measure `json:"b_read_under_role_edits_on_a,omitempty"`
	EditsPerS      float64  `json:"role_edits_per_s_on_a,omitempty"`
}

// ReplicaRound is one change and what the second replica answered.
type ReplicaRound struct {
	Change string `json:"change"`
	After  int    `json:"answers_after_change"`
	Stale  int    `json:"stale_answers"`
	Errors int    `json:"unexpected_answers"`
	// LagMS is from the first replica's response to the first answer of
	// the second showing the change; negative when that answer came first
	// (the change commits before its response is written).
	LagMS float64 `json:"lag_ms"`
}

// Settings are the run's bounds.
type Settings struct {
	Duration    string `json:"duration_per_scenario"`
	Workers     int    `json:"workers"`
	MaxRequests int    `json:"max_requests_per_scenario"`
	Soak        string `json:"soak"`
	Users       int    `json:"seeded_users"`
}

// Build is the static cost of one revision of the binary.
type Build struct {
	Rev         string  `json:"rev"`
	BinaryBytes int64   `json:"binary_bytes"`
	DB          string  `json:"db,omitempty"` // where it started: sqlite or postgres
	ColdStartMS float64 `json:"cold_start_to_ready_ms_median"`
	IdleRSS     int64   `json:"idle_rss_bytes_median"`
	IdleAnonRSS int64   `json:"idle_anon_rss_bytes_median"` // of IdleRSS: heap and stacks; the rest is mapped binary
	Starts      int     `json:"starts"`
}

// DBRun is every scenario on one database.
type DBRun struct {
	Name      string     `json:"name"`
	Scenarios []Scenario `json:"scenarios"`
	Soak      *Soak      `json:"soak,omitempty"`
	Replicas  *Replicas  `json:"replicas,omitempty"`
}

// Scenario is one workload against the application, and its baseline.
type Scenario struct {
	Name     string   `json:"name"`
	NA       string   `json:"not_applicable,omitempty"`
	App      *Measure `json:"app,omitempty"`
	Baseline *Measure `json:"baseline,omitempty"`
	BaseName string   `json:"baseline_name,omitempty"`
	Ratio    float64  `json:"ratio_to_baseline,omitempty"`
	// AtRate and BaseAtRate are the application and the baseline driven
	// open-loop at one offered rate: 70% of the baseline's maximum.
	AtRate     *load.Result `json:"at_70pct_of_baseline_max,omitempty"`
	BaseAtRate *load.Result `json:"baseline_at_70pct_of_baseline_max,omitempty"`
}

// Measure is a load result with the server's own costs.
type Measure struct {
	load.Result
	CPUPerReqUS float64 `json:"cpu_per_request_us"`
	PeakRSS     int64   `json:"peak_rss_bytes"`
}

// Soak is the long run at a fixed rate.
type Soak struct {
	Duration string       `json:"duration"`
	Rate     float64      `json:"target_req_per_s"`
	Result   load.Result  `json:"result"`
	Samples  []SoakSample `json:"samples"`
}

// SoakSample is the server's state at one moment of the soak.
type SoakSample struct {
	At         string `json:"at"`
	RSS        int64  `json:"rss_bytes"`
	Goroutines int    `json:"goroutines"`
}

// Budget is one goal of the issue, checked.
type Budget struct {
	Name  string `json:"name"`
	Goal  string `json:"goal"`
	Value string `json:"value"`
	Pass  bool   `json:"pass"`
}

// Write stores results.json, summary.md and chart.svg in dir.
func (r *Run) Write(dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	j, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	var md strings.Builder
	r.Markdown(&md)
	files := map[string][]byte{
		"results.json": append(j, '\n'),
		"summary.md":   []byte(md.String()),
		"chart.svg":    []byte(r.SVG()),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// FormatMetrics lists a benchmark's metrics by unit, sorted.
func FormatMetrics(m map[string]float64) string {
	units := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(units))
	for i, u := range units {
		parts[i] = strconv.FormatFloat(m[u], 'g', 4, 64) + " " + u
	}
	return strings.Join(parts, ", ")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

// MiB formats bytes.
func MiB(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// Table prints the per-scenario table.
func (r *Run) Table(w io.Writer) {
	fmt.Fprintf(w, "%-9s %-44s %10s %9s %9s %7s %10s %11s %10s %7s\n",
		"db", "scenario", "req/s", "p50 ms", "p99 ms", "errors", "cpu/req µs", "peak RSS", "base req/s", "ratio")
	for _, db := range r.Databases {
		for _, s := range db.Scenarios {
			if s.NA != "" {
				fmt.Fprintf(w, "%-9s %-44s %s\n", db.Name, s.Name, s.NA)
				continue
			}
			a := s.App
			base, ratio := "-", "-"
			if s.Baseline != nil {
				base = fmt.Sprintf("%.1f", s.Baseline.Rate)
			} else if s.BaseName != "" {
				base = s.BaseName
			}
			if s.Ratio > 0 {
				ratio = fmt.Sprintf("%.2fx", s.Ratio)
			}
			fmt.Fprintf(w, "%-9s %-44s %10.0f %9s %9s %7d %10.0f %11s %10s %7s\n",
				db.Name, s.Name, a.Rate, ms(a.P50), ms(a.P99), a.Errors, a.CPUPerReqUS, MiB(a.PeakRSS), base, ratio)
			if s.AtRate != nil {
				fmt.Fprintf(w, "%-9s %-44s %10.0f %9s %9s %7d\n", "", "  at 70% of baseline max", s.AtRate.Rate, ms(s.AtRate.P50), ms(s.AtRate.P99), s.AtRate.Errors)
			}
			if b := s.BaseAtRate; b != nil {
				fmt.Fprintf(w, "%-9s %-44s %10.0f %9s %9s %7d\n", "", "  baseline at that rate", b.Rate, ms(b.P50), ms(b.P99), b.Errors)
			}
		}
	}
}

// Markdown writes the summary the README links.
func (r *Run) Markdown(w io.Writer) {
	fmt.Fprintf(w, "# Benchmark results\n\n")
	fmt.Fprintf(w, "Run %s on commit `%s` (%s, %d CPUs). Reproduce with `make bench` "+
		"(`make bench BASE=<rev>` adds a previous revision's static numbers).\n\n",
		r.Started.UTC().Format(time.RFC3339), r.Commit, r.GoVersion, r.CPUs)
	fmt.Fprintf(w, "**These numbers come from a shared, noisy 2-core machine** on which other engineers were "+
		"compiling and testing during the run, and the load generator shares the cores with the server. "+
		"Absolute values do not transfer; the ratios to the baselines, measured in the same run, are the signal.\n\n")
	fmt.Fprintf(w, "Settings: %s per scenario (at most %d requests), %d workers (keep-alive connections), "+
		"%d seeded users, soak %s.\n\n", r.Settings.Duration, r.Settings.MaxRequests, r.Settings.Workers, r.Settings.Users, r.Settings.Soak)
	fmt.Fprintf(w, "![ratio to baseline](chart.svg)\n\n## Scenarios\n\n")
	fmt.Fprintf(w, "| db | scenario | req/s | p50 ms | p99 ms | errors | CPU/req µs | peak RSS | baseline req/s | ratio |\n|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, db := range r.Databases {
		for _, s := range db.Scenarios {
			if s.NA != "" {
				fmt.Fprintf(w, "| %s | %s | %s | | | | | | | |\n", db.Name, s.Name, s.NA)
				continue
			}
			a := s.App
			base, ratio := "", ""
			if s.Baseline != nil {
				base = fmt.Sprintf("%.1f (%s)", s.Baseline.Rate, s.BaseName)
			} else if s.BaseName != "" {
				base = s.BaseName
			}
			if s.Ratio > 0 {
				ratio = fmt.Sprintf("%.2fx", s.Ratio)
			}
			fmt.Fprintf(w, "| %s | %s | %.0f | %s | %s | %d | %.0f | %s | %s | %s |\n",
				db.Name, s.Name, a.Rate, ms(a.P50), ms(a.P99), a.Errors, a.CPUPerReqUS, MiB(a.PeakRSS), base, ratio)
			if s.AtRate != nil {
				fmt.Fprintf(w, "| %s | %s at 70%% of the baseline's max | %.0f | %s | %s | %d | | | | |\n",
					db.Name, s.Name, s.AtRate.Rate, ms(s.AtRate.P50), ms(s.AtRate.P99), s.AtRate.Errors)
			}
			if b := s.BaseAtRate; b != nil {
				fmt.Fprintf(w, "| %s | %s, baseline at that rate | %.0f | %s | %s | %d | | | | |\n",
					db.Name, s.Name, b.Rate, ms(b.P50), ms(b.P99), b.Errors)
			}
		}
	}
	if r.RawHashRate > 0 {
		fmt.Fprintf(w, "\nThe login baseline is the raw argon2id hash rate on all cores, measured before and after each login run (their mean kept) in a process of its own started with the application's environment, so with the parameters and runtime settings the application reads (last: %.1f hashes/s).\n", r.RawHashRate)
	}
	fmt.Fprintf(w, "\n## Start-up and size\n\n| revision | database | binary | cold start to ready (median) | idle RSS (median) | of which anonymous |\n|---|---|--:|--:|--:|--:|\n")
	for _, b := range r.Builds {
		fmt.Fprintf(w, "| %s | %s | %s | %.1f ms | %s | %s |\n", b.Rev, b.DB, MiB(b.BinaryBytes), b.ColdStartMS, MiB(b.IdleRSS), MiB(b.IdleAnonRSS))
	}
	fmt.Fprintf(w, "\nIdle RSS is VmRSS one second after ready; the anonymous part (RssAnon) is heap and stacks, the rest is the binary's code and data mapped from the file.\n")
	for _, db := range r.Databases {
		if db.Soak == nil {
			continue
		}
		s := db.Soak
		fmt.Fprintf(w, "\n## Soak (%s, %s at %.0f req/s target)\n\n%d requests (%.0f req/s achieved), %d errors, p50 %s ms, p99 %s ms "+
			"(open loop: latency counts from each request's scheduled start, so when the shared machine cannot hold the target rate "+
			"the backlog shows here).\n\n| at | RSS | goroutines |\n|---|--:|--:|\n",
			db.Name, s.Duration, s.Rate, s.Result.Requests, s.Result.Rate, s.Result.Errors, ms(s.Result.P50), ms(s.Result.P99))
		for _, x := range s.Samples {
			fmt.Fprintf(w, "| %s | %s | %d |\n", x.At, MiB(x.RSS), x.Goroutines)
		}
	}
	for _, db := range r.Databases {
		if rp := db.Replicas; rp != nil {
			fmt.Fprintf(w, "\n## Authorization changes across two replicas (%s)\n\n"+
				"Two application processes on one database; a change made through replica A while replica B is polled. "+
				"Stale: B's answers to requests sent after A's response that still show the state before the change. "+
				"Lag: from A's response to B's first answer showing the change (negative: B showed it first).\n\n"+
				"| change | answers after A's response | stale | unexpected | lag ms |\n|---|--:|--:|--:|--:|\n", db.Name)
			for _, x := range rp.Rounds {
				fmt.Fprintf(w, "| %s | %d | %d | %d | %.2f |\n", x.Change, x.After, x.Stale, x.Errors, x.LagMS)
			}
			if a, u := rp.ReadAlone, rp.ReadUnderEdits; a != nil && u != nil && a.Rate > 0 {
				fmt.Fprintf(w, "\nB's `GET /api/users/me`: %.0f req/s alone, %.0f req/s (%.2fx, %d errors) while A edited a role's permissions "+
					"%.0f times a second (each edit makes every account cached on B reload once).\n", a.Rate, u.Rate, u.Rate/a.Rate, u.Errors, rp.EditsPerS)
			}
		}
	}
	if len(r.GoBenchmarks) > 0 {
		fmt.Fprintf(w, "\n## Go benchmarks\n\nRun by the harness after the load, with no server running.\n\n| benchmark | db | metrics | command |\n|---|---|---|---|\n")
		for _, g := range r.GoBenchmarks {
			m := g.Err
			if m == "" {
				m = FormatMetrics(g.Metrics)
			}
			// A pipe splits a table cell even inside a code span unless
			// escaped (GitHub Flavored Markdown), and the patterns have them.
			fmt.Fprintf(w, "| %s | %s | %s | `%s` |\n", g.Name, g.DB, m, cell(g.Command))
		}
	}
	fmt.Fprintf(w, "\n## Budgets\n\nMeasured on commit `%s`.\n\n| budget | goal | measured | |\n|---|---|---|---|\n", r.Commit)
	for _, b := range r.Budgets {
		mark := "pass"
		if !b.Pass {
			mark = "**miss**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", cell(b.Name), cell(b.Goal), cell(b.Value), mark)
	}
	if len(r.Notes) > 0 {
		fmt.Fprintf(w, "\n## Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
}
