package main

import (
	"strings"
	"testing"

	"github.com/acme/monolith/bench/load"
	"github.com/acme/monolith/bench/report"
)

// TestReadBudgetIsTheBaselineScenarioOnly: the reads that start like
// the baseline's (/me again with a role, /me with an API key) are held to
// their own budgets, not to the baseline's.
func TestReadBudgetIsTheBaselineScenarioOnly(t *testing.T) {
	m := func(r float64) *report.Measure { return &report.Measure{Result: load.Result{Rate: r}} }
	ref := m(1000)
	h := &harness{run: &report.Run{Databases: []report.DBRun{{Name: "postgres", Scenarios: []report.Scenario{
		{Name: scenarioMe, App: m(900), Baseline: m(1000), Ratio: 0.9},
		{Name: scenarioMeWithRole, App: ref},
		{Name: scenarioByID, App: m(600), Baseline: ref, Ratio: 0.6},
		{Name: scenarioMeByKey, App: m(700), Baseline: ref, Ratio: 0.7},
	}}}}}
	h.budgets()
	var read []string
	for _, b := range h.run.Budgets {
		if strings.Contains(b.Name, "read path vs baseline") {
			read = append(read, b.Value)
		}
	}
	if len(read) != 1 || read[0] != "0.90x" {
		t.Fatalf("read-path budgets %q, want one, of the baseline scenario (0.90x); all: %+v", read, h.run.Budgets)
	}
}
