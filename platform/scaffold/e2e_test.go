package scaffold_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acme/monolith/platform/scaffold"
	"github.com/acme/monolith/platform/testkit"
)

// TestReadmeWorkflowOnACleanCopy is the CI test of the generator. On a copy
// of the repository's files it runs the README's "Add a module" commands
// verbatim (generate, the generated tests, the boundary checks, the
// linters), then generates orders (the entity Order) and vets, lints and
// tests it with -race too, migrates both dialects with the new migrations,
// and checks that a forced failure leaves nothing behind, that a second
// run refuses, and that the contract tests pass with no step after
// make module.
//
// It builds and lints a whole repository and generates two modules, so it
// takes minutes (about 12 on 2 busy shared cores): `go test -short` skips it; `make test` runs it once.
func TestReadmeWorkflowOnACleanCopy(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end generator test: skipped with -short")
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
	steps := readmeSteps(t)

	src, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	copyRepo(t, src, dst)
	env := []string{
		"MIGRATE_DEV_URL=" + testkit.PostgresDirectURL(),
		"GIT_AUTHOR_NAME=dev", "GIT_AUTHOR_EMAIL=dev@example.com",
		"GIT_COMMITTER_NAME=dev", "GIT_COMMITTER_EMAIL=dev@example.com",
	}
	sh := func(cmdline string, extra ...string) (string, error) {
		t.Helper()
		start := time.Now()
		cmd := exec.Command("bash", "-euo", "pipefail", "-c", cmdline)
		cmd.Dir = dst
		cmd.Env = append(append(os.Environ(), env...), extra...)
		out, err := cmd.CombinedOutput()
		t.Logf("%-48s %6.1fs", cmdline, time.Since(start).Seconds())
		return string(out), err
	}

	// A forced failure (no Postgres to plan against) at the last step
	// leaves the copy exactly as it was.
	before := fingerprint(t, dst)
	out, err := sh("go run ./cmd/app-dev new module notes", "MIGRATE_DEV_URL=postgres://postgres@127.0.0.1:1/none?connect_timeout=2")
	if err == nil || !strings.Contains(out, "nothing was changed") {
		t.Fatalf("generation against an unreachable Postgres: err=%v\n%s", err, out)
	}
	if after := fingerprint(t, dst); after != before {
		t.Fatalf("a failed generation left changes behind:\n%s", gitStatus(t, dst))
	}

	// The README, verbatim. make module changes exactly the module's
	// files and the derived ones, and the steps after it change nothing.
	linkNodeModules(t, src, dst)
	if out, err := sh("git commit -qm base"); err != nil {
		t.Fatalf("commit the copy: %v\n%s", err, out)
	}
	written := renderedPaths(t, src, "notes")
	for i, step := range steps {
		if out, err := sh(step); err != nil {
			t.Fatalf("README step %q failed: %v\n%s", step, err, out)
		}
		if i == 0 || i == len(steps)-1 {
			if missing, extra := moduleChanges(changedPaths(t, dst), written, "notes"); len(missing)+len(extra) > 0 {
				t.Fatalf("after %q: paths that should have changed and did not: %q; paths that changed and should not have: %q", step, missing, extra)
			}
		}
	}
	// On the committed result, CI's checks of the generated files pass:
	// regenerating changes nothing.
	if out, err := sh("git add -A && git commit -qm 'add notes' && make check-generated && make clients"); err != nil {
		t.Fatalf("CI's generated-file checks after make module: %v\n%s", err, out)
	}
	if st := gitStatus(t, dst); st != "" {
		t.Fatalf("regenerating after make module changed:\n%s", st)
	}

	// Twice is refused.
	if out, err := sh("go run ./cmd/app-dev new module notes"); err == nil || !strings.Contains(out, "already exists") {
		t.Fatalf("second generation: err=%v\n%s", err, out)
	}

	// orders, the most common module name, keeps the entity Order (ent
	// accepts it), and its module is vetted, linted and tested with -race
	// like the README's.
	out, err = sh("make module name=orders")
	if err != nil || strings.Contains(out, "instead") {
		t.Fatalf("make module name=orders: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dst, "ent", "order", "order.go")); err != nil {
		t.Fatalf("orders: no ent entity Order: %v", err)
	}
	if out, err := sh("go test -race -count=1 ./modules/orders/... && make lint LINT_PKGS=./modules/orders/..."); err != nil {
		t.Fatalf("the orders module: %v\n%s", err, out)
	}

	// The new migrations apply on both dialects, and leave no drift.
	for _, dia := range testkit.Dialects {
		url := testkit.NewDatabaseURL(t, dia)
		out, err := sh("go run ./cmd/app migrate up && go run ./cmd/app migrate status --exit-code", "DATABASE_URL="+url)
		if err != nil || !regexp.MustCompile(`applied \d+_add_notes`).MatchString(out) || !regexp.MustCompile(`applied \d+_add_orders`).MatchString(out) {
			t.Fatalf("%s: migrate: %v\n%s", dia, err, out)
		}
	}
	// With no step after make module, the tests of the derived files pass:
	// make module refreshed the contract snapshot, the error catalogue and
	// the settings files (and the module picture, which only CI requires
	// current); the
	// generated modules meet the API contract's rules and leave no drift.
	if out, err := sh("go test -count=1 -run 'Drift|ValidateApp|OpenAPI|ErrorCatalogue|Onboarding|ConfigFilesAreCurrent' ./platform/migrator/ ./cmd/internal/appcmd/ ./cmd/internal/devcmd/"); err != nil {
		t.Fatalf("drift / ValidateApp / OpenAPI contract / picture / settings files on the generated repository: %v\n%s", err, out)
	}
}

// readmeSteps returns the commands of the first sh block of README's
// "Add a module" section, without their comments.
func readmeSteps(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Add a module\n")
	if !ok {
		t.Fatal(`README.md has no "## Add a module" section`)
	}
	_, block, ok := strings.Cut(section, "```sh\n")
	if !ok {
		t.Fatal(`README's "Add a module" has no sh block`)
	}
	block, _, _ = strings.Cut(block, "```")
	var steps []string
	for _, line := range strings.Split(block, "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line != "" {
			steps = append(steps, line)
		}
	}
	if len(steps) < 3 || !strings.HasPrefix(steps[0], "make module name=notes") {
		t.Fatalf("README steps = %q, want the generator first", steps)
	}
	return steps
}

// copyRepo copies what a clean clone has: the tracked files (and new files
// not yet committed, so the test sees a working change), without .git.
func copyRepo(t *testing.T, src, dst string) {
	t.Helper()
	out, err := exec.Command("git", "-C", src, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("git ls-files: %v", err)
	}
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		b, err := os.ReadFile(filepath.Join(src, rel))
		if os.IsNotExist(err) {
			continue // deleted in the working tree
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// git, so that `make lint` can list the Go files.
	for _, args := range [][]string{{"init", "-q"}, {"add", "-A"}} {
		if out, err := exec.Command("git", append([]string{"-C", dst}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
}

// fingerprint hashes every file under root except .git.
func fingerprint(t *testing.T, root string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() {
			if info.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		h.Write([]byte(rel))
		h.Write(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func gitStatus(t *testing.T, dir string) string {
	out, _ := exec.Command("git", "-C", dir, "status", "--short").CombinedOutput()
	return string(bytes.TrimSpace(out))
}

// TestModuleChangesAreExact: the README workflow's check of what make
// module changed accepts exactly the expected paths and names any other,
// and any expected one that did not change.
func TestModuleChangesAreExact(t *testing.T) {
	written := []string{"ent/schema/note.go", "modules/notes/notes.go", "modules/notes/noteapi/routes.go"}
	exact := append(slices.Clone(written), derivedByModule...)
	exact = append(exact, "ent/client.go", "ent/note/note.go",
		"migrations/postgres/20260101000000_add_notes.sql", "migrations/sqlite/20260101000000_add_notes.sql")
	if missing, extra := moduleChanges(exact, written, "notes"); len(missing)+len(extra) > 0 {
		t.Fatalf("control: the expected set: missing %q, extra %q", missing, extra)
	}
	for _, outside := range []string{"docs/notes.md", "go.mod", "modules/users/users.go", "ent/schema/user.go", "migrations/sqlite/20260101000000_add_orders.sql", "README.md"} {
		if _, extra := moduleChanges(append(slices.Clone(exact), outside), written, "notes"); !slices.Equal(extra, []string{outside}) {
			t.Errorf("%s changed too: extra = %q", outside, extra)
		}
	}
	for i, p := range exact {
		without := slices.Delete(slices.Clone(exact), i, i+1)
		want := p
		switch {
		case strings.HasPrefix(p, "ent/") && p != "ent/schema/note.go":
			continue // the other file is regenerated code too
		case strings.HasSuffix(p, "_add_notes.sql"):
			want = p[:strings.LastIndexByte(p, '/')+1] + "<version>_add_notes.sql (found 0)"
		}
		if missing, _ := moduleChanges(without, written, "notes"); !slices.Equal(missing, []string{want}) {
			t.Errorf("without %s: missing = %q", p, missing)
		}
	}
	twice := append(slices.Clone(exact), "migrations/sqlite/20260101000001_add_notes.sql")
	if missing, _ := moduleChanges(twice, written, "notes"); len(missing) != 1 || !strings.Contains(missing[0], "found 2") {
		t.Errorf("two sqlite migrations: missing = %q", missing)
	}
}

// linkNodeModules lets the copy use the TypeScript client's pinned
// generator as CI installs it (make clients installs it when absent),
// kept out of git status like the directory it stands for.
func linkNodeModules(t *testing.T, src, dst string) {
	t.Helper()
	const rel = "clients/ts/node_modules"
	if !dirExists(filepath.Join(src, rel)) {
		return
	}
	if err := os.Symlink(filepath.Join(src, rel), filepath.Join(dst, rel)); err != nil {
		t.Fatal(err)
	}
	exclude := filepath.Join(dst, ".git", "info", "exclude")
	if err := os.MkdirAll(filepath.Dir(exclude), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exclude, []byte("/"+rel+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// renderedPaths is what the generator writes for module name in the
// repository at root: the module's files and its ent schema.
func renderedPaths(t *testing.T, root, name string) []string {
	t.Helper()
	r, err := os.OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	modPath, err := scaffold.ModulePath(r)
	if err != nil {
		t.Fatal(err)
	}
	idents, err := scaffold.EntIdents(r)
	if err != nil {
		t.Fatal(err)
	}
	n, err := scaffold.Derive(name, "", modPath, idents)
	if err != nil {
		t.Fatal(err)
	}
	files, err := scaffold.Render(n)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Sorted(maps.Keys(files))
}

// changedPaths is every path git status reports in dir, each untracked
// file by itself.
func changedPaths(t *testing.T, dir string) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", dir, "status", "--porcelain", "--untracked-files=all").Output()
	if err != nil {
		t.Fatalf("git status: %v", err)
	}
	var paths []string
	for _, line := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		if len(line) > 3 {
			paths = append(paths, line[3:])
		}
	}
	return paths
}

// derivedByModule are the files every generated module changes besides
// its own: the module list, the migrations' checksums and what is
// regenerated from the code (the contract, the settings files, the
// module picture, the API clients). ent/ is regenerated too.
var derivedByModule = []string{
	"cmd/app/modules/modules.go",
	"migrations/postgres/atlas.sum", "migrations/sqlite/atlas.sum",
	"docs/openapi.json", "docs/errors.md",
	".env.example", "docs/operations.md",
	"docs/onboarding.md", "docs/onboarding-modules.svg",
	"clients/go/apiclient/client.gen.go", "clients/ts/src/schema.ts",
}

// moduleChanges compares the paths changed by generating module name with
// what it should change: written (the rendered files), derivedByModule,
// ent/ and one new migration per dialect. missing should have changed and
// did not; extra changed and should not have.
func moduleChanges(changed, written []string, name string) (missing, extra []string) {
	migration := regexp.MustCompile(`^migrations/(postgres|sqlite)/\d+_add_` + regexp.QuoteMeta(name) + `\.sql$`)
	want := map[string]bool{}
	for _, p := range append(slices.Clone(written), derivedByModule...) {
		want[p] = true
	}
	seen := map[string]bool{}
	migrations, entCode := map[string]int{}, 0
	for _, p := range changed {
		switch m := migration.FindStringSubmatch(p); {
		case want[p]:
			seen[p] = true
		case m != nil:
			migrations[m[1]]++
		case strings.HasPrefix(p, "ent/") && !strings.HasPrefix(p, "ent/schema/"):
			entCode++
		default:
			extra = append(extra, p)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(want)) {
		if !seen[p] {
			missing = append(missing, p)
		}
	}
	for _, dia := range []string{"postgres", "sqlite"} {
		if migrations[dia] != 1 {
			missing = append(missing, fmt.Sprintf("migrations/%s/<version>_add_%s.sql (found %d)", dia, name, migrations[dia]))
		}
	}
	if entCode == 0 {
		missing = append(missing, "ent/ (the regenerated code)")
	}
	return missing, extra
}
