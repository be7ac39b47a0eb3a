package scaffold_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/monolith/platform/testkit"
)

// TestTwoTeamsMergeOnACleanCopy is the CI test of parallel work. In a git
// repository copied from this one, two teams each generate a module on a
// branch from main, following README's "Add a module" (make module
// regenerates the picture, the contract, the settings files and the API
// clients, as CI requires), and commit. items reaches main first and is
// deployed (both dialects migrated); then invoices, whose migration is
// older, is merged. The merge conflicts only in derived files, never in
// the module list; `make merged` regenerates and stages them and stops at
// the late migration, as `migrate up` and `migrate status` do on the
// deployed databases, each naming `app-dev migrate rebase VERSION`; after it,
// the merge commits clean, builds, migrates the deployed and fresh
// databases of both dialects, and the generated modules' tests pass.
//
// It generates two modules and builds the result several times: minutes
// (6 to 11 on 2 shared cores, by load). `go test -short` skips it;
// `make test` runs it once, like TestReadmeWorkflowOnACleanCopy.
func TestTwoTeamsMergeOnACleanCopy(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end merge test: skipped with -short")
	}
	if testkit.BehindPgBouncer() {
		t.Skip("builds and tests a clean copy (minutes), which is not the pooler's business: it ran in the first pass")
	}
	for _, tool := range []string{"git", "make", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	testkit.RequirePostgres(t)

	src, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	copyRepo(t, src, dst)
	// The TypeScript client's pinned generator, as CI installs it, instead
	// of a second download into the copy.
	if nm := filepath.Join(src, "clients", "ts", "node_modules"); dirExists(nm) {
		if err := os.Symlink(nm, filepath.Join(dst, "clients", "ts", "node_modules")); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{
		"MIGRATE_DEV_URL=" + testkit.PostgresDirectURL(),
		"GIT_AUTHOR_NAME=team", "GIT_AUTHOR_EMAIL=team@example.com",
		"GIT_COMMITTER_NAME=team", "GIT_COMMITTER_EMAIL=team@example.com",
		"GIT_MERGE_AUTOEDIT=no",
	}
	sh := func(cmdline string, extra ...string) (string, error) {
		t.Helper()
		start := time.Now()
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", cmdline)
		cmd.Dir = dst
		cmd.Env = append(append(os.Environ(), env...), extra...)
		out, err := cmd.CombinedOutput()
		t.Logf("%-64s %6.1fs", cmdline, time.Since(start).Seconds())
		return string(out), err
	}
	must := func(cmdline string, extra ...string) string {
		t.Helper()
		out, err := sh(cmdline, extra...)
		if err != nil {
			t.Fatalf("%s: %v\n%s", cmdline, err, out)
		}
		return out
	}

	must("git commit -qm main && git branch -M main")
	// Names that sort next to each other, with no existing path, scope or
	// schema between them: their additions to the API document and the
	// client touch the same lines, so those files conflict as they do for
	// teams in practice (two names far apart merge there cleanly).
	for _, name := range []string{"invoices", "items"} {
		must("git checkout -q -b " + name + " main")
		must("make module name=" + name)
		must("git add -A && git commit -qm 'add " + name + "'")
	}
	version := func(name string) string {
		t.Helper()
		m, _ := filepath.Glob(filepath.Join(dst, "migrations", "postgres", "*_add_"+name+".sql"))
		if len(m) != 1 {
			t.Fatalf("migration of %s: %v", name, m)
		}
		v, _, _ := strings.Cut(filepath.Base(m[0]), "_")
		return v
	}

	// items reaches main and is deployed: both dialects migrated.
	must("git checkout -q main && git merge -q --ff-only items")
	deployed := map[string]string{}
	for _, dia := range testkit.Dialects {
		deployed[dia] = testkit.NewDatabaseURL(t, dia)
		must("go run ./cmd/app migrate up", "DATABASE_URL="+deployed[dia])
	}

	// invoices, written first, is merged second.
	out, err := sh("git merge invoices")
	if err == nil {
		t.Fatalf("control: the merge should conflict in derived files:\n%s", out)
	}
	conflicted := strings.Fields(must("git diff --name-only --diff-filter=U"))
	for _, want := range []string{"ent/client.go", "migrations/postgres/atlas.sum", "migrations/sqlite/atlas.sum", "docs/openapi.json", "clients/ts/src/schema.ts", ".env.example", "docs/operations.md"} {
		if !slices.Contains(conflicted, want) {
			t.Errorf("%s did not conflict (the test would prove nothing): %v", want, conflicted)
		}
	}
	if slices.Contains(conflicted, "cmd/app/modules/modules.go") {
		t.Errorf("the module list conflicted: %v", conflicted)
	}
	t.Logf("conflicted after git merge: %v", conflicted)

	late := version("invoices")
	if late >= version("items") {
		t.Fatalf("invoices %s should be older than items %s", late, version("items"))
	}
	rebase := "`app-dev migrate rebase " + late + "`"
	// The one command regenerates and stages, then stops at the late file.
	out, err = sh("make merged")
	if err == nil || !strings.Contains(out, rebase) {
		t.Fatalf("make merged with a late migration should fail naming %s: %v\n%s", rebase, err, out)
	}
	if left := must("git diff --name-only --diff-filter=U"); left != "" {
		t.Fatalf("make merged left conflicts: %s", left)
	}
	// The deployed databases refuse it too.
	for _, dia := range testkit.Dialects {
		for _, cmd := range []string{"up", "status"} {
			out, err := sh("go run ./cmd/app migrate "+cmd, "DATABASE_URL="+deployed[dia])
			if err == nil || !strings.Contains(out, rebase) {
				t.Errorf("%s: migrate %s with a late file: %v\n%s", dia, cmd, err, out)
			}
		}
	}

	must("go run ./cmd/app-dev migrate rebase " + late)
	must("make merged")
	must("git commit -q --no-edit")
	if st := must("git status --porcelain"); st != "" {
		t.Fatalf("the merge left changes behind:\n%s", st)
	}
	if out := must("git grep -lE '^(<<<<<<<|>>>>>>>)( |$)' || true"); out != "" {
		t.Fatalf("conflict markers committed:\n%s", out)
	}

	must("go build ./... && go vet ./cmd/app/... ./modules/...")
	fresh := map[string]string{}
	for _, dia := range testkit.Dialects {
		fresh[dia] = testkit.NewDatabaseURL(t, dia)
	}
	for _, dia := range testkit.Dialects {
		for kind, url := range map[string]string{"deployed": deployed[dia], "fresh": fresh[dia]} {
			out := must("go run ./cmd/app migrate up && go run ./cmd/app migrate status --exit-code", "DATABASE_URL="+url)
			if !strings.Contains(out, "_add_invoices.sql") {
				t.Errorf("%s %s database: invoices not applied:\n%s", dia, kind, out)
			}
			if kind == "fresh" && !strings.Contains(out, "_add_items.sql") {
				t.Errorf("%s fresh database: items not applied:\n%s", dia, out)
			}
		}
	}
	// The generated modules' tests (both dialects), the boundary checks,
	// no drift between ent and the directories, and the regenerated
	// contract and picture are current.
	must("go test -count=1 ./modules/invoices/... ./modules/items/... ./platform/archtest/ ./platform/migrator/")
	must("go test -count=1 -run 'ValidateApp|OpenAPI|ErrorCatalogue' ./cmd/internal/appcmd/ ./cmd/internal/devcmd/")
	must("make check-generated")
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
