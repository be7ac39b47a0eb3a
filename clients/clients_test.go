// Package clients_test runs the generated TypeScript client against the
// running app (the Go client's smoke test lives beside it in go/apiclient).
package clients_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// tsTools finds node and the client's pinned TypeScript compiler; without
// them the test is skipped, except in CI, where .ci/run installs them.
func tsTools(t *testing.T) (node, tsc string) {
	t.Helper()
	node, err := exec.LookPath("node")
	tsc = filepath.Join("ts", "node_modules", ".bin", "tsc")
	if _, statErr := os.Stat(tsc); err != nil || statErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("node and clients/ts's packages are required in CI (npm ci --prefix clients/ts): node %v, tsc %v", err, statErr)
		}
		t.Skip("node or clients/ts/node_modules missing (npm ci --prefix clients/ts)")
	}
	return node, tsc
}

// TestTypeScriptClientSmoke: the TypeScript client type-checks under
// strict settings, and its smoke flow (register, a 409 and a 422 read as
// typed problems, the password grant, /me, a refresh) passes against the
// app on both databases.
func TestTypeScriptClientSmoke(t *testing.T) {
	node, tsc := tsTools(t)
	build := exec.Command(tsc, "-p", filepath.Join("ts", "tsconfig.json"))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("tsc (strict) on the TypeScript client: %v\n%s", err, out)
	}
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		out, err := exec.Command(node, filepath.Join("ts", "dist", "smoke", "smoke.js"), app.URL).CombinedOutput()
		if err != nil {
			t.Fatalf("smoke flow: %v\n%s", err, out)
		}
		var res struct {
			OK       bool  `json:"ok"`
			Problems []any `json:"problems"`
		}
		last := strings.TrimSpace(string(out))
		if i := strings.LastIndexByte(last, '\n'); i >= 0 {
			last = last[i+1:]
		}
		if err := json.Unmarshal([]byte(last), &res); err != nil || !res.OK || len(res.Problems) != 3 {
			t.Fatalf("smoke flow said: %s", out)
		}
	})
}
