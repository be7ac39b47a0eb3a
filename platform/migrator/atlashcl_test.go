package migrator_test

import (
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// TestAtlasHCL keeps atlas.hcl valid HCL and pointed at the directories and
// schema this program uses, for teams running the Atlas CLI.
func TestAtlasHCL(t *testing.T) {
	src, err := os.ReadFile("../../atlas.hcl")
	if err != nil {
		t.Fatal(err)
	}
	f, diags := hclsyntax.ParseConfig(src, "atlas.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		t.Fatalf("atlas.hcl: %v", diags)
	}
	want := map[string]string{"postgres": "file://migrations/postgres", "sqlite": "file://migrations/sqlite"}
	found := map[string]bool{}
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		if b.Type != "env" || len(b.Labels) != 1 {
			continue
		}
		name := b.Labels[0]
		text := string(src[b.Range().Start.Byte:b.Range().End.Byte])
		if !strings.Contains(text, `src = "ent://ent/schema"`) || !strings.Contains(text, `dir = "`+want[name]+`"`) {
			t.Errorf("env %q does not use ent://ent/schema and %s", name, want[name])
		}
		found[name] = true
	}
	for name := range want {
		if !found[name] {
			t.Errorf("atlas.hcl has no env %q", name)
		}
		if _, err := os.Stat("../../" + strings.TrimPrefix(want[name], "file://") + "/atlas.sum"); err != nil {
			t.Errorf("env %q: %v", name, err)
		}
	}
}
