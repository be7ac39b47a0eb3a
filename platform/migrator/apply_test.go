package migrator_test

import (
	"context"
	"strings"
	"testing"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/migrator"
	"github.com/acme/monolith/platform/testkit"
)

// TestFailedFileLeavesNothing: a file whose second statement fails is
// refused with its name, the statement's number and line; its first
// statement is rolled back and no revision is recorded, on both databases.
// The files before it stay applied, with the row the Atlas CLI writes.
func TestFailedFileLeavesNothing(t *testing.T) {
	for _, dia := range testkit.Dialects {
		t.Run(dia, func(t *testing.T) {
			ctx := context.Background()
			db := testkit.NewEmptyDB(t, dia)
			m, err := migrator.New(db, zap.NewNop())
			if err != nil {
				t.Fatal(err)
			}
			dir := &migrate.MemDir{}
			_ = dir.WriteFile("20200101000000_good.sql", []byte("CREATE TABLE good (id integer PRIMARY KEY);\nINSERT INTO good (id) VALUES (1);\n"))
			_ = dir.WriteFile("20200102000000_bad.sql", []byte("CREATE TABLE half (id integer PRIMARY KEY);\n-- the next one fails\nINSERT INTO missing_table (id) VALUES (1);\nCREATE TABLE never (id integer);\n"))
			sum, err := dir.Checksum()
			if err != nil {
				t.Fatal(err)
			}
			if err := migrate.WriteSumFile(dir, sum); err != nil {
				t.Fatal(err)
			}
			applied, err := migrator.WithDir(m, dir).Up(ctx)
			if err == nil {
				t.Fatal("a failing file applied")
			}
			for _, want := range []string{"20200102000000_bad.sql", "statement 2 of 3", "line 3"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
			if len(applied) != 1 || applied[0] != "20200101000000_good.sql" {
				t.Fatalf("applied = %v, want the good file only", applied)
			}
			var n int
			if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM good").Scan(&n); err != nil || n != 1 {
				t.Fatalf("the good file's rows: %d, %v", n, err)
			}
			if _, err := db.SQL.ExecContext(ctx, "SELECT 1 FROM half"); err == nil {
				t.Fatal("the failed file's first statement was kept")
			}
			rows, err := db.SQL.QueryContext(ctx, "SELECT version, type, applied, total, hash FROM "+migrator.RevisionTable+" ORDER BY version")
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = rows.Close() }()
			var got []string
			for rows.Next() {
				var version, hash string
				var typ, done, total int
				if err := rows.Scan(&version, &typ, &done, &total, &hash); err != nil {
					t.Fatal(err)
				}
				want, _ := sum.SumByName("20200101000000_good.sql")
				if version != "20200101000000" || typ != int(migrate.RevisionTypeExecute) || done != 2 || total != 2 || hash != want {
					t.Errorf("revision row = %s type %d applied %d/%d hash %s; want the Atlas CLI's row for the good file", version, typ, done, total, hash)
				}
				got = append(got, version)
			}
			if len(got) != 1 {
				t.Fatalf("revisions = %v, want only the good file's", got)
			}
		})
	}
}

// applyFiles applies files (name → SQL) to db as one migration directory.
func applyFiles(t *testing.T, db *database.DB, files map[string]string) ([]string, error) {
	t.Helper()
	m, err := migrator.New(db, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	dir := &migrate.MemDir{}
	for name, body := range files {
		_ = dir.WriteFile(name, []byte(body))
	}
	sum, err := dir.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate.WriteSumFile(dir, sum); err != nil {
		t.Fatal(err)
	}
	return migrator.WithDir(m, dir).Up(context.Background())
}

// TestSQLiteRebuildKeepsReferencingRows: a file that rebuilds a table the
// way Atlas plans it for SQLite (new table, copy, drop, rename) keeps the
// rows of other tables that reference it with ON DELETE CASCADE; a file
// that leaves a dangling reference is refused and leaves nothing; and the
// connections keep enforcing foreign keys afterwards.
func TestSQLiteRebuildKeepsReferencingRows(t *testing.T) {
	ctx := context.Background()
	db := testkit.NewEmptyDB(t, dialect.SQLite)
	const setup = "CREATE TABLE parents (id integer PRIMARY KEY, name text);\n" +
		"CREATE TABLE children (id integer PRIMARY KEY, parent_id integer NOT NULL REFERENCES parents (id) ON DELETE CASCADE);\n" +
		"INSERT INTO parents (id, name) VALUES (1, 'Zoë'), (2, '日本');\n" +
		"INSERT INTO children (id, parent_id) VALUES (10, 1), (20, 2);\n"
	const rebuild = "PRAGMA foreign_keys = off;\n" +
		"CREATE TABLE new_parents (id integer PRIMARY KEY, name text, kind text NOT NULL DEFAULT 'user');\n" +
		"INSERT INTO new_parents (id, name) SELECT id, name FROM parents;\n" +
		"DROP TABLE parents;\n" +
		"ALTER TABLE new_parents RENAME TO parents;\n" +
		"PRAGMA foreign_keys = on;\n"
	if _, err := applyFiles(t, db, map[string]string{"20200101000000_setup.sql": setup, "20200102000000_rebuild.sql": rebuild}); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM children").Scan(&n); err != nil || n != 2 {
		t.Fatalf("children after the rebuild of their parents: %d, %v (the drop cascaded)", n, err)
	}

	const dangling = "DELETE FROM parents WHERE id = 2;\nCREATE TABLE after_dangling (id integer);\n"
	applied, err := applyFiles(t, db, map[string]string{"20200101000000_setup.sql": setup, "20200102000000_rebuild.sql": rebuild,
		"20200103000000_dangling.sql": dangling})
	if err == nil || !strings.Contains(err.Error(), "20200103000000_dangling.sql") || !strings.Contains(err.Error(), "children") || len(applied) != 0 {
		t.Fatalf("a file leaving a dangling reference: applied %v, %v", applied, err)
	}
	if err := db.SQL.QueryRowContext(ctx, "SELECT count(*) FROM parents").Scan(&n); err != nil || n != 2 {
		t.Fatalf("the refused file's delete was kept: %d parents, %v", n, err)
	}
	// Every pooled connection still enforces foreign keys.
	for i := range 4 {
		if _, err := db.SQL.ExecContext(ctx, "INSERT INTO children (id, parent_id) VALUES (?, 99)", 100+i); err == nil {
			t.Fatal("a connection accepts a dangling reference after migrating")
		}
	}
}
