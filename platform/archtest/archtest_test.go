package archtest

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRepository is the check itself: the repository keeps every rule.
func TestRepository(t *testing.T) {
	vs, err := Check(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		t.Error(v)
	}
}

// TestFixtureViolations proves each rule fails on a fixture that breaks it
// and that the clean module of the same fixture passes, as does platform
// code using an entity the platform owns.
func TestFixtureViolations(t *testing.T) {
	vs, err := Check(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, v := range vs {
		t.Log(v)
		got[v.Rule+" "+strings.TrimPrefix(v.Package, "example.com/fixture/")] = true
		if strings.Contains(v.Package, "/modules/notes") || strings.Contains(v.Package, "/platform/counting") {
			t.Errorf("the clean module was flagged: %s", v)
		}
	}
	want := []string{
		RuleAPIImportsData + " modules/bad/badapi",   // imports ent and the store
		RuleServiceImportsIO + " modules/bad/badsvc", // imports huma
		RuleSchemaImports + " modules/bad/badschema", // imports ent
		RuleDTOExposesEnt + " modules/bad/badschema", // a field of type *ent.Note
		RuleCrossModule + " modules/bad",             // imports modules/notes/notesvc
		RuleForeignEntity + " modules/bad/badstore",  // queries Secret, owned by vault
		RulePlatformImports + " platform/leaky",      // platform importing a module
		RulePlatformImports + " platform/testkit",    // the test kit too: the module list is cmd/
		RulePlatformNames + " platform/named",        // platform naming a module's route
		RuleForeignEntity + " platform/snoop",        // platform using a module's entity
		RuleUnownedEntity + " ent/schema/orphan.go",  // no ownership annotation
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("missing violation %q", w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d distinct violations, want %d", len(got), len(want))
	}
}

// fixture copies testdata/fixture into a temporary directory, naming its
// go.mod.fixture files go.mod. They are stored under another name because
// a module zip leaves out every directory holding a go.mod: with them, a
// project started from this one by gonew would lack the fixture.
func fixture(t *testing.T) string {
	t.Helper()
	src := filepath.Join("testdata", "fixture")
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		to := filepath.Join(dst, strings.TrimSuffix(rel, ".fixture"))
		if d.IsDir() {
			return os.MkdirAll(to, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
