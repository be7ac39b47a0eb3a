package archtest

import (
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
	vs, err := Check(filepath.Join("testdata", "fixture"))
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
