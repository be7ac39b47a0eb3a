package userstore_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	"go.uber.org/zap"

	"github.com/acme/monolith/migrations"
	"github.com/acme/monolith/modules/users/userstore"
	"github.com/acme/monolith/modules/users/usersvc"
	"github.com/acme/monolith/platform/migrator"
	"github.com/acme/monolith/platform/testkit"
)

// rolesMigration is the migration that introduced roles.
const rolesMigration = "20261202071036_add_roles.sql"

// TestSuperusersBecomeAdmins: a database migrated before roles existed,
// with a superuser and an ordinary account, gains the built-in admin role
// held by the superuser alone when the roles migration runs.
func TestSuperusersBecomeAdmins(t *testing.T) {
	for _, dia := range []string{dialect.SQLite, dialect.Postgres} {
		t.Run(dia, func(t *testing.T) {
			ctx := context.Background()
			db := testkit.NewEmptyDB(t, dia)
			m, err := migrator.New(db, zap.NewNop())
			if err != nil {
				t.Fatal(err)
			}
			root := migrator.DirName(dia)
			entries, err := migrations.FS.ReadDir(root)
			if err != nil {
				t.Fatal(err)
			}
			before := fstest.MapFS{}
			for _, e := range entries {
				if strings.HasSuffix(e.Name(), ".sql") && e.Name() < rolesMigration {
					b, _ := migrations.FS.ReadFile(root + "/" + e.Name())
					before[root+"/"+e.Name()] = &fstest.MapFile{Data: b}
				}
			}
			dir, err := migrator.LoadDir(before, root)
			if err != nil {
				t.Fatal(err)
			}
			sum, _ := dir.Checksum()
			if err := migrate.WriteSumFile(dir, sum); err != nil {
				t.Fatal(err)
			}
			if _, err := migrator.WithDir(m, dir).Up(ctx); err != nil {
				t.Fatal(err)
			}
			// Rows as the previous release wrote them (no roles yet).
			q := `INSERT INTO users (id, email, full_name, password_hash, is_active, is_superuser, created_at, updated_at) VALUES `
			if dia == dialect.Postgres {
				q += `('11111111-1111-4111-8111-111111111111', 'root@example.test', '', 'h', true, true, now(), now()),
				      ('22222222-2222-4222-8222-222222222222', 'ada@example.test', '', 'h', true, false, now(), now())`
			} else {
				q += `('11111111-1111-4111-8111-111111111111', 'root@example.test', '', 'h', true, true, '2026-01-02 03:04:05 +0000 UTC', '2026-01-02 03:04:05 +0000 UTC'),
				      ('22222222-2222-4222-8222-222222222222', 'ada@example.test', '', 'h', true, false, '2026-01-02 03:04:05 +0000 UTC', '2026-01-02 03:04:05 +0000 UTC')`
			}
			if _, err := db.SQL.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
			applied, err := m.Up(ctx)
			if err != nil || len(applied) == 0 || applied[0] != rolesMigration {
				t.Fatalf("applied %v, %v", applied, err)
			}
			s := userstore.New(db.Ent)
			rootUser, err := s.ByEmail(ctx, "root@example.test")
			if err != nil || !rootUser.IsAdmin() || len(rootUser.Roles) != 1 || rootUser.Roles[0].ID != usersvc.AdminRoleID {
				t.Fatalf("the superuser: %+v %v", rootUser, err)
			}
			ada, err := s.ByEmail(ctx, "ada@example.test")
			if err != nil || ada.IsAdmin() || len(ada.Roles) != 0 {
				t.Fatalf("the ordinary account: %+v %v", ada, err)
			}
		})
	}
}
