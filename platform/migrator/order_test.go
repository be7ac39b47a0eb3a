package migrator_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"ariga.io/atlas/sql/migrate"
	"github.com/google/go-cmp/cmp"
	"go.uber.org/zap"

	"github.com/acme/monolith/migrations"
	"github.com/acme/monolith/platform/migrator"
	"github.com/acme/monolith/platform/testkit"
)

// lateVersion sorts between the embedded files: a branch's migration
// written before the newest one on main.
const lateVersion = "20261127000000"

// writeDirs copies the embedded directories to a temporary tree (as in a
// checkout), adds extra files to both dialects and rehashes atlas.sum.
func writeDirs(t *testing.T, extra map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for _, sub := range []string{"postgres", "sqlite"} {
		entries, err := migrations.FS.ReadDir(sub)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(root, sub), 0o750); err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, _ := migrations.FS.ReadFile(sub + "/" + e.Name())
			if err := os.WriteFile(filepath.Join(root, sub, e.Name()), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		for name, content := range extra {
			if err := os.WriteFile(filepath.Join(root, sub, name), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		d, err := migrate.NewLocalDir(filepath.Join(root, sub))
		if err != nil {
			t.Fatal(err)
		}
		if err := migrator.WriteSum(d); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func loadDir(t *testing.T, root, dia string) *migrate.MemDir {
	t.Helper()
	dir, err := migrator.LoadDir(os.DirFS(root), migrator.DirName(dia))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestOutOfOrderFileIsRefusedThenRebased is the merge of a branch created
// before main's newest migration, on a database migrated from main: status
// lists the late file and fails naming `app-dev migrate rebase VERSION`, up
// applies nothing, and after Rebase the file applies at the head.
func TestOutOfOrderFileIsRefusedThenRebased(t *testing.T) {
	for _, dia := range testkit.Dialects {
		t.Run(dia, func(t *testing.T) {
			ctx := context.Background()
			db := testkit.NewDB(t, dia) // migrated from the embedded files: main
			base, err := migrator.New(db, zap.NewNop())
			if err != nil {
				t.Fatal(err)
			}
			root := writeDirs(t, map[string]string{lateVersion + "_add_tickets.sql": "CREATE TABLE probe_late (id integer PRIMARY KEY);\n"})
			m := migrator.WithDir(base, loadDir(t, root, dia))

			st, err := m.Status(ctx)
			var ooo *migrator.OutOfOrderError
			if !errors.As(err, &ooo) || !errors.Is(err, migrator.ErrOutOfOrder) {
				t.Fatalf("status with a late file: %v, want an OutOfOrderError", err)
			}
			if want := "`app-dev migrate rebase " + lateVersion + "`"; !strings.Contains(err.Error(), want) {
				t.Errorf("message %q does not name %s", err, want)
			}
			if len(st.OutOfOrder) != 1 || st.OutOfOrder[0].Name() != lateVersion+"_add_tickets.sql" || len(st.Pending) != 0 || len(st.Applied) == 0 {
				t.Errorf("status: %d applied, pending %v, out of order %v", len(st.Applied), st.PendingNames(), st.OutOfOrder)
			}
			if applied, err := m.Up(ctx); !errors.Is(err, migrator.ErrOutOfOrder) || len(applied) != 0 {
				t.Fatalf("up with a late file: applied %v, %v", applied, err)
			}
			if _, err := db.SQL.ExecContext(ctx, "SELECT count(*) FROM probe_late"); err == nil {
				t.Fatal("up created the late file's table")
			}

			moved, err := migrator.Rebase(root, []string{lateVersion}, time.Now())
			if err != nil || len(moved) != 2 {
				t.Fatalf("rebase: %v %v", moved, err)
			}
			m = migrator.WithDir(base, loadDir(t, root, dia))
			applied, err := m.Up(ctx)
			if err != nil || len(applied) != 1 || applied[0] != moved[0].To {
				t.Fatalf("up after rebase: %v %v (moved %v)", applied, err, moved)
			}
			if _, err := db.SQL.ExecContext(ctx, "SELECT count(*) FROM probe_late"); err != nil {
				t.Fatalf("the rebased file's table: %v", err)
			}
		})
	}
}

// TestSharedVersionIsRefused: two branches that generated a migration in
// the same second give two files one version; revisions are keyed by
// version, so the second would silently count as applied.
func TestSharedVersionIsRefused(t *testing.T) {
	for _, dia := range testkit.Dialects {
		t.Run(dia, func(t *testing.T) {
			ctx := context.Background()
			db := testkit.NewDB(t, dia)
			base, err := migrator.New(db, zap.NewNop())
			if err != nil {
				t.Fatal(err)
			}
			const v = "20990101000000"
			// Both files new: the directory itself is refused.
			root := writeDirs(t, map[string]string{v + "_add_invoices.sql": "CREATE TABLE probe_first (id integer PRIMARY KEY);\n", v + "_add_tickets.sql": "CREATE TABLE probe_late (id integer PRIMARY KEY);\n"})
			_, err = migrator.WithDir(base, loadDir(t, root, dia)).Up(ctx)
			if !errors.Is(err, migrator.ErrVersionTaken) || !strings.Contains(err.Error(), "`app-dev migrate rebase "+v+"_add_tickets`") {
				t.Fatalf("up with two files of one version: %v", err)
			}
			// One applied from main, the other merged later.
			root = writeDirs(t, map[string]string{v + "_add_invoices.sql": "CREATE TABLE probe_first (id integer PRIMARY KEY);\n"})
			if _, err := migrator.WithDir(base, loadDir(t, root, dia)).Up(ctx); err != nil {
				t.Fatal(err)
			}
			root = writeDirs(t, map[string]string{v + "_add_tickets.sql": "CREATE TABLE probe_late (id integer PRIMARY KEY);\n"})
			_, err = migrator.WithDir(base, loadDir(t, root, dia)).Status(ctx)
			if !errors.Is(err, migrator.ErrVersionTaken) || !strings.Contains(err.Error(), "applied as "+v+"_add_invoices") {
				t.Fatalf("status with a file whose version was applied as another: %v", err)
			}
		})
	}
}

func TestLateFiles(t *testing.T) {
	base := []string{"20261126044527_init.sql", "20261202090000_add_invoices.sql"}
	branch := []string{"20261126044527_init.sql", "20261202080000_add_tickets.sql", "20261202100000_add_notes.sql"}
	late, newest := migrator.LateFiles(base, branch)
	if diff := cmp.Diff([]string{"20261202080000_add_tickets.sql"}, late); diff != "" || newest != "20261202090000" {
		t.Errorf("LateFiles: newest %s, late (-want +got):\n%s", newest, diff)
	}
	// Control: the base itself, and a branch ahead of it, have none.
	if late, _ := migrator.LateFiles(base, base); len(late) != 0 {
		t.Errorf("base against itself: %v", late)
	}
	if late, _ := migrator.LateFiles(base, append(slices.Clone(base), "20261202100000_add_notes.sql")); len(late) != 0 {
		t.Errorf("a branch ahead of its base: %v", late)
	}
}

// afterEmbedded is an hour after the newest embedded migration, so the
// test's clock is ahead of the head on main and on any branch built on it.
func afterEmbedded(t *testing.T) time.Time {
	t.Helper()
	entries, err := migrations.FS.ReadDir("postgres")
	if err != nil {
		t.Fatal(err)
	}
	head := ""
	for _, e := range entries {
		if v, _, ok := strings.Cut(e.Name(), "_"); ok && strings.HasSuffix(e.Name(), ".sql") {
			head = max(head, v)
		}
	}
	at, err := time.Parse("20060102150405", head)
	if err != nil {
		t.Fatalf("newest embedded migration %q: %v", head, err)
	}
	return at.Add(time.Hour)
}

func TestRebase(t *testing.T) {
	now := afterEmbedded(t)
	version := func(d time.Duration) string { return now.Add(d).Format("20060102150405") }
	root := writeDirs(t, map[string]string{
		lateVersion + "_add_tickets.sql": "CREATE TABLE probe_late (id integer PRIMARY KEY);\n",
		"20261127000001_add_notes.sql":   "CREATE TABLE probe_next (id integer PRIMARY KEY);\n",
	})
	// An unknown target changes nothing.
	if _, err := migrator.Rebase(root, []string{lateVersion, "20000101000000"}, now); err == nil || !strings.Contains(err.Error(), "no migration file has version 20000101000000") {
		t.Fatalf("rebase of an unknown version: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "postgres", lateVersion+"_add_tickets.sql")); err != nil {
		t.Fatalf("a refused rebase moved a file: %v", err)
	}

	moved, err := migrator.Rebase(root, []string{"20261127000001_add_notes", lateVersion}, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []migrator.Renamed{
		{Dir: "postgres", From: "20261127000001_add_notes.sql", To: version(0) + "_add_notes.sql"},
		{Dir: "sqlite", From: "20261127000001_add_notes.sql", To: version(0) + "_add_notes.sql"},
		{Dir: "postgres", From: lateVersion + "_add_tickets.sql", To: version(time.Second) + "_add_tickets.sql"},
		{Dir: "sqlite", From: lateVersion + "_add_tickets.sql", To: version(time.Second) + "_add_tickets.sql"},
	}
	if diff := cmp.Diff(want, moved); diff != "" {
		t.Fatalf("moved (-want +got):\n%s", diff)
	}
	for _, sub := range []string{"postgres", "sqlite"} {
		d, _ := migrate.NewLocalDir(filepath.Join(root, sub))
		if err := migrate.Validate(d); err != nil {
			t.Errorf("%s after rebase: %v", sub, err)
		}
		files, _ := d.Files()
		if last := files[len(files)-1].Name(); last != version(time.Second)+"_add_tickets.sql" {
			t.Errorf("%s: head is %s", sub, last)
		}
	}
	// A head in the future of this clock: one second after it.
	moved, err = migrator.Rebase(root, []string{version(0)}, now.Add(-time.Hour))
	if err != nil || moved[0].To != version(2*time.Second)+"_add_notes.sql" {
		t.Fatalf("rebase behind the head's clock: %v %v", moved, err)
	}
}
