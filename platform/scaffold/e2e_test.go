package scaffold_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

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
	env := []string{"MIGRATE_DEV_URL=" + testkit.PostgresURL()}
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

	// The README, verbatim.
	for _, step := range steps {
		if out, err := sh(step); err != nil {
			t.Fatalf("README step %q failed: %v\n%s", step, err, out)
		}
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
	// make module refreshed the contract snapshot and the error catalogue
	// (and the module picture, which only CI requires current); the
	// generated modules meet the API contract's rules and leave no drift.
	if out, err := sh("go test -count=1 -run 'Drift|ValidateApp|OpenAPI|ErrorCatalogue|Onboarding' ./platform/migrator/ ./cmd/internal/appcmd/ ./cmd/internal/devcmd/"); err != nil {
		t.Fatalf("drift / ValidateApp / OpenAPI contract / picture on the generated repository: %v\n%s", err, out)
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
