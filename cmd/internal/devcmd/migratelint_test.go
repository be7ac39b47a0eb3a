package devcmd

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"

	"github.com/acme/monolith/platform/migrator"
)

func TestMigrateLint(t *testing.T) {
	out, err := run(t, nil, "", "migrate", "lint", "--dir", "../../../migrations/postgres")
	if err != nil {
		t.Fatalf("the shipped migrations fail the lint: %v\n%s", err, out)
	}
	dir := filepath.Join(t.TempDir(), "postgres")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "20300101000000_drop.sql")
	if err := os.WriteFile(file, []byte("ALTER TABLE \"users\" DROP COLUMN \"nickname\";\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = run(t, nil, "", "migrate", "lint", "--dir", dir)
	if !errors.Is(err, errDestructive) || !strings.Contains(out, "drop_column") {
		t.Fatalf("a DROP COLUMN passed the lint: %v\n%s", err, out)
	}
	ack := migrator.Acknowledgement + " nickname unused since v1.4, nothing reads it\n"
	if err := os.WriteFile(file, []byte(ack+"ALTER TABLE \"users\" DROP COLUMN \"nickname\";\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err = run(t, nil, "", "migrate", "lint", "--dir", dir); err != nil {
		t.Fatalf("an acknowledged file failed the lint: %v\n%s", err, out)
	}
}

func TestMigrateHash(t *testing.T) {
	root := t.TempDir()
	for _, sub := range []string{"postgres", "sqlite"} {
		if err := os.CopyFS(filepath.Join(root, sub), os.DirFS(filepath.Join("../../../migrations", sub))); err != nil {
			t.Fatal(err)
		}
		// A new, not yet applied file: atlas.sum no longer matches.
		if err := os.WriteFile(filepath.Join(root, sub, "20300101000000_x.sql"), []byte("-- nothing\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		dir, err := migrator.LoadDir(os.DirFS(root), sub)
		if err != nil {
			t.Fatal(err)
		}
		if migrate.Validate(dir) == nil {
			t.Fatalf("%s: control: atlas.sum should be stale", sub)
		}
	}
	if out, err := run(t, nil, "", "migrate", "hash", "--dir", root); err != nil {
		t.Fatalf("hash: %v\n%s", err, out)
	}
	for _, sub := range []string{"postgres", "sqlite"} {
		dir, err := migrator.LoadDir(os.DirFS(root), sub)
		if err != nil {
			t.Fatal(err)
		}
		if err := migrate.Validate(dir); err != nil {
			t.Fatalf("%s after hash: %v", sub, err)
		}
	}
}

// TestMigrateLintAgainstBase is CI's check of a branch against main: a
// migration main lacks that is older than main's newest fails, naming the
// rebase command, in both dialects; after `migrate rebase` it passes.
func TestMigrateLintAgainstBase(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	repo := t.TempDir()
	root := filepath.Join(repo, "migrations")
	for _, sub := range []string{"postgres", "sqlite"} {
		if err := os.CopyFS(filepath.Join(root, sub), os.DirFS(filepath.Join("../../../migrations", sub))); err != nil {
			t.Fatal(err)
		}
	}
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-qm", "main")
	lint := func() (string, error) {
		return run(t, nil, "", "migrate", "lint", "--dir", filepath.Join(root, "postgres"), "--base", "main")
	}
	if out, err := lint(); err != nil {
		t.Fatalf("main against itself: %v\n%s", err, out)
	}

	// A branch adds a file older than main's newest (whichever it is: the
	// copy is of the repository's own directory).
	entries, err := os.ReadDir(filepath.Join(root, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	var newest string
	for _, e := range entries {
		if v, _, ok := strings.Cut(e.Name(), "_"); ok && strings.HasSuffix(e.Name(), ".sql") && v > newest {
			newest = v
		}
	}
	const late = "20261130000000"
	for _, sub := range []string{"postgres", "sqlite"} {
		if err := os.WriteFile(filepath.Join(root, sub, late+"_add_tickets.sql"), []byte("CREATE TABLE tickets (id integer PRIMARY KEY);\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := lint()
	if !errors.Is(err, migrator.ErrOutOfOrder) {
		t.Fatalf("a late file passed the lint against main: %v\n%s", err, out)
	}
	for _, want := range []string{"postgres: " + late + "_add_tickets.sql is older than version " + newest + ", the newest on main", "sqlite: ", "`app-dev migrate rebase " + late + "`"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("lint error lacks %q: %v", want, err)
		}
	}
	if _, err := run(t, nil, "", "migrate", "lint", "--dir", filepath.Join(root, "postgres"), "--base", "no-such-branch"); err == nil || !strings.Contains(err.Error(), "not a revision") {
		t.Errorf("an unknown base: %v", err)
	}

	out, err = run(t, nil, "", "migrate", "rebase", "--dir", root, late)
	if err != nil || strings.Count(out, "moved ") != 2 {
		t.Fatalf("rebase: %v\n%s", err, out)
	}
	if out, err := lint(); err != nil {
		t.Fatalf("after rebase: %v\n%s", err, out)
	}
	for _, sub := range []string{"postgres", "sqlite"} {
		dir, err := migrator.LoadDir(os.DirFS(root), sub)
		if err != nil {
			t.Fatal(err)
		}
		if err := migrate.Validate(dir); err != nil {
			t.Errorf("%s atlas.sum after rebase: %v", sub, err)
		}
	}
}
