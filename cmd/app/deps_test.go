package main

import (
	"os/exec"
	"strings"
	"testing"
)

// devOnly are the packages of the development tools (cmd/app-dev) and
// what they bring with them: the serving binary pays for each at start and
// in memory, for nothing an operator runs.
// Our own packages are named below the module path, which a project made
// from this template (gonew) changes.
var devOnly = []string{
	"./cmd/internal/devcmd",
	"./platform/fxgraph",
	"./platform/scaffold",
	"go/parser",
	"go/format",
	// Planning migrations: Atlas's dialect drivers bring the HCL toolchain
	// (about 3 MB of idle memory). Applying them needs none of it.
	"./platform/migrator/authoring",
	"./ent/migrate",
	"entgo.io/ent/dialect/sql/schema",
	"ariga.io/atlas/sql/postgres",
	"ariga.io/atlas/sql/sqlite",
	"ariga.io/atlas/sql/mysql",
	"github.com/hashicorp/hcl/v2",
}

func deps(t *testing.T, pkg string) map[string]bool {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
	}
	set := map[string]bool{}
	for _, p := range strings.Fields(string(out)) {
		set[p] = true
	}
	return set
}

// linked reports the packages of set that are prefix or under it.
func linked(set map[string]bool, prefix string) []string {
	var found []string
	for p := range set {
		if p == prefix || strings.HasPrefix(p, strings.TrimSuffix(prefix, "/")+"/") {
			found = append(found, p)
		}
	}
	return found
}

// TestServingBinaryCarriesNoDevelopmentTools: cmd/app (what the image
// ships) links none of the development tools, which cmd/app-dev has.
func TestServingBinaryCarriesNoDevelopmentTools(t *testing.T) {
	out, err := exec.Command("go", "list", "-m").Output()
	if err != nil {
		t.Fatalf("go list -m: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	serving, dev := deps(t, mod+"/cmd/app"), deps(t, mod+"/cmd/app-dev")
	for _, p := range devOnly {
		if rel, ok := strings.CutPrefix(p, "./"); ok {
			p = mod + "/" + rel
		}
		if len(linked(dev, p)) == 0 {
			t.Errorf("cmd/app-dev does not link %s: the list of development-only packages is out of date", p)
		}
		if found := linked(serving, p); len(found) > 0 {
			t.Errorf("cmd/app links %v: development tools belong in cmd/internal/devcmd, which only cmd/app-dev imports", found)
		}
	}
}
