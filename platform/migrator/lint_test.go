package migrator_test

import (
	"os"
	"slices"
	"testing"

	"github.com/acme/monolith/migrations"
	"github.com/acme/monolith/platform/migrator"
)

func TestLintFixtures(t *testing.T) {
	want := map[string][]string{
		"01_create.sql":                   nil,
		"02_drop_column.sql":              {"drop_column"},
		"03_drop_column_acknowledged.sql": nil,
		"04_add_not_null.sql":             {"add_not_null_without_default"},
		"05_add_not_null_default.sql":     nil,
		"06_set_not_null.sql":             {"set_not_null"},
		"07_drop_table.sql":               {"drop_table"},
		"08_ack_without_reason.sql":       {"drop_table"},
		"09_rename_and_type.sql":          {"rename", "change_type"},
		"10_strings_and_comments.sql":     nil,
		"11_drop_index_constraint.sql":    nil,
	}
	entries, err := os.ReadDir("testdata/lint")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(want) {
		t.Fatalf("%d fixtures, %d expectations", len(entries), len(want))
	}
	for name, rules := range want {
		b, err := os.ReadFile("testdata/lint/" + name)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range migrator.LintFile(name, b) {
			got = append(got, f.Rule)
		}
		if !slices.Equal(got, rules) {
			t.Errorf("%s: findings %v, want %v", name, got, rules)
		}
	}
	all, err := migrator.LintDir(os.DirFS("testdata"), "lint")
	if err != nil || len(all) != 7 {
		t.Fatalf("LintDir: %d findings (%v), want 7", len(all), err)
	}
}

// TestShippedMigrationsPassLint: the project's own Postgres migrations.
func TestShippedMigrationsPassLint(t *testing.T) {
	findings, err := migrator.LintDir(migrations.FS, "postgres")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		t.Errorf("%s (add a %q comment with the reason if this is intended)", f, migrator.Acknowledgement)
	}
}
