package fxgraph

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// The bundled libraries are the ones package-lock.json pins (`make
// graph-assets` writes vendor/VERSIONS from what it installed).
func TestVendoredVersionsArePinned(t *testing.T) {
	lock, err := os.ReadFile("assets/package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	var l struct {
		Packages map[string]struct {
			Version string `json:"version"`
		} `json:"packages"`
	}
	if err := json.Unmarshal(lock, &l); err != nil {
		t.Fatal(err)
	}
	versions, err := os.ReadFile("assets/vendor/VERSIONS")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(versions)), "\n") {
		name, version, _ := strings.Cut(line, " ")
		if got := l.Packages["node_modules/"+name].Version; got != version {
			t.Errorf("vendor has %s %s, package-lock.json pins %q: run make graph-assets", name, version, got)
		}
	}
	pkg, err := os.ReadFile("assets/package.json")
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(pkg, &p); err != nil {
		t.Fatal(err)
	}
	for name, version := range p.Dependencies {
		if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(version) || !strings.Contains(string(versions), name+" "+version+"\n") {
			t.Errorf("package.json: %s %q is not an exact version that vendor/ holds", name, version)
		}
	}
}
