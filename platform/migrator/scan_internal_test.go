package migrator

import (
	"testing"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/sqlite"
	"entgo.io/ent/dialect"
)

// TestStatementsSplitAsAtlasDoes: the migrator splits files as the Atlas
// CLI's own drivers do, for every shipped file and for the constructs
// where a naive split on ';' goes wrong, so both record the same
// statement counts and a database can move between them.
func TestStatementsSplitAsAtlasDoes(t *testing.T) {
	tricky := map[string]string{
		dialect.Postgres: `CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN NEW.a := 'x;y'; RETURN NEW; END; $$ LANGUAGE plpgsql;
CREATE FUNCTION g() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END;
INSERT INTO t (s) VALUES (E'tab\t; fine'), ('it''s; é;ü');
-- a comment; with a semicolon
SELECT 1;`,
		dialect.SQLite: `CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = 'x;y' WHERE id = NEW.id; END;
INSERT INTO t (s) VALUES ('it''s; fine'), ('é;ü');
/* block; comment */ SELECT 1;`,
	}
	for _, dia := range []string{dialect.Postgres, dialect.SQLite} {
		t.Run(dia, func(t *testing.T) {
			var atlas interface {
				ScanStmts(string) ([]*migrate.Stmt, error)
			} = &sqlite.Driver{}
			if dia == dialect.Postgres {
				atlas = &postgres.Driver{}
			}
			m := &Migrator{dialect: dia}
			dir, err := EmbeddedDir(dia)
			if err != nil {
				t.Fatal(err)
			}
			files, err := dir.Files()
			if err != nil {
				t.Fatal(err)
			}
			inputs := map[string]string{"tricky": tricky[dia]}
			for _, f := range files {
				inputs[f.Name()] = string(f.Bytes())
			}
			for name, in := range inputs {
				ours, err := m.statements(migrate.NewLocalFile(name, []byte(in)))
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				theirs, err := atlas.ScanStmts(in)
				if err != nil {
					t.Fatalf("%s: atlas: %v", name, err)
				}
				if len(ours) != len(theirs) {
					t.Fatalf("%s: %d statements, Atlas's driver finds %d", name, len(ours), len(theirs))
				}
				for i := range ours {
					if ours[i].Text != theirs[i].Text || ours[i].Pos != theirs[i].Pos {
						t.Errorf("%s: statement %d = %q at %d, Atlas's = %q at %d", name, i+1, ours[i].Text, ours[i].Pos, theirs[i].Text, theirs[i].Pos)
					}
				}
			}
			if n := len(inputs["tricky"]); n == 0 {
				t.Fatal("no fixture")
			}
		})
	}
}
