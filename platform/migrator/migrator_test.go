package migrator_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	"go.uber.org/zap"

	"github.com/acme/monolith/migrations"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/migrator"
	"github.com/acme/monolith/platform/testkit"
)

func TestUpThenStatus(t *testing.T) {
	for _, dia := range testkit.Dialects {
		t.Run(dia, func(t *testing.T) {
			ctx := context.Background()
			db := testkit.NewEmptyDB(t, dia)
			m, err := migrator.New(db, zap.NewNop())
			if err != nil {
				t.Fatal(err)
			}
			st, err := m.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			files, _ := migrator.EmbeddedDir(dia)
			all, _ := files.Files()
			if len(st.Applied) != 0 || len(st.Pending) != len(all) || len(all) == 0 {
				t.Fatalf("fresh status: %d applied, %d pending of %d", len(st.Applied), len(st.Pending), len(all))
			}
			applied, err := m.Up(ctx)
			if err != nil || len(applied) != len(all) {
				t.Fatalf("up: %v %v", applied, err)
			}
			if st, err = m.Status(ctx); err != nil || len(st.Pending) != 0 || len(st.Applied) != len(all) {
				t.Fatalf("status after up: %+v %v", st, err)
			}
			// A second run is a no-op.
			if applied, err = m.Up(ctx); err != nil || len(applied) != 0 {
				t.Fatalf("second up: %v %v", applied, err)
			}
			// The schema is really there.
			if _, err := db.Ent.User.Query().Count(ctx); err != nil {
				t.Fatalf("query users after migrate: %v", err)
			}
		})
	}
}

func TestEditedAppliedFileIsRefused(t *testing.T) {
	for _, dia := range testkit.Dialects {
		t.Run(dia, func(t *testing.T) {
			ctx := context.Background()
			db := testkit.NewDB(t, dia)
			m, err := migrator.New(db, zap.NewNop())
			if err != nil {
				t.Fatal(err)
			}
			// Edit the first applied file and regenerate atlas.sum, as
			// someone "fixing" history would: the sum is valid again, but
			// the database remembers the original hash.
			root := migrator.DirName(dia)
			entries, _ := migrations.FS.ReadDir(root)
			edited := fstest.MapFS{}
			var first string
			for _, e := range entries {
				b, _ := migrations.FS.ReadFile(root + "/" + e.Name())
				if first == "" && strings.HasSuffix(e.Name(), ".sql") {
					first = e.Name()
					b = append(b, []byte("\n-- a harmless-looking edit\n")...)
				}
				edited[root+"/"+e.Name()] = &fstest.MapFile{Data: b}
			}
			dir, err := migrator.LoadDir(edited, root)
			if err != nil {
				t.Fatal(err)
			}
			sum, _ := dir.Checksum()
			if err := migrate.WriteSumFile(dir, sum); err != nil {
				t.Fatal(err)
			}
			m = migrator.WithDir(m, dir)
			if _, err := m.Status(ctx); !errors.Is(err, migrator.ErrEditedAfterApply) {
				t.Fatalf("status with edited %s: err = %v, want ErrEditedAfterApply", first, err)
			}
			if _, err := m.Up(ctx); !errors.Is(err, migrator.ErrEditedAfterApply) {
				t.Fatalf("up with edited %s: err = %v", first, err)
			}
		})
	}
}

func TestTamperedChecksumIsRefused(t *testing.T) {
	db := testkit.NewEmptyDB(t, dialect.SQLite)
	m, _ := migrator.New(db, zap.NewNop())
	root := migrator.DirName(dialect.SQLite)
	entries, _ := migrations.FS.ReadDir(root)
	edited := fstest.MapFS{}
	for _, e := range entries {
		b, _ := migrations.FS.ReadFile(root + "/" + e.Name())
		if strings.HasSuffix(e.Name(), ".sql") {
			b = append(b, []byte("\n-- edited without re-summing\n")...)
		}
		edited[root+"/"+e.Name()] = &fstest.MapFile{Data: b}
	}
	dir, _ := migrator.LoadDir(edited, root)
	if _, err := migrator.WithDir(m, dir).Up(context.Background()); !errors.Is(err, migrate.ErrChecksumMismatch) {
		t.Fatalf("err = %v, want checksum mismatch", err)
	}
}

// TestMigrationOutlivesStatementTimeout: the pool asks Postgres for
// statement_timeout = DB_QUERY_TIMEOUT, which is for requests; a migration
// statement that runs longer (an index on a big table) still applies.
func TestMigrationOutlivesStatementTimeout(t *testing.T) {
	ctx := context.Background()
	db := testkit.NewDB(t, dialect.Postgres, func(c *config.Database) { c.QueryTimeout = 200 * time.Millisecond })
	// Migrations run on the direct pool (behind PgBouncer, the only one
	// that gets statement_timeout at connection start).
	var st string
	if err := db.Direct().QueryRowContext(ctx, "SHOW statement_timeout").Scan(&st); err != nil || st != "200ms" {
		t.Fatalf("control: statement_timeout = %q (%v)", st, err)
	}
	if _, err := db.Direct().ExecContext(ctx, "SELECT pg_sleep(0.6)"); err == nil {
		t.Fatal("control: a statement outlived statement_timeout outside a migration")
	}
	m, err := migrator.New(db, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	dir, err := migrator.EmbeddedDir(dialect.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	if err := dir.WriteFile("99990101000000_slow.sql", []byte("SELECT pg_sleep(0.6);\n")); err != nil {
		t.Fatal(err)
	}
	sum, _ := dir.Checksum()
	if err := migrate.WriteSumFile(dir, sum); err != nil {
		t.Fatal(err)
	}
	applied, err := migrator.WithDir(m, dir).Up(ctx)
	if err != nil || len(applied) != 1 || applied[0] != "99990101000000_slow.sql" {
		t.Fatalf("slow migration: applied %v, err %v", applied, err)
	}
}
