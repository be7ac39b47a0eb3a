package devcmd

import (
	"errors"
	"os"
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
