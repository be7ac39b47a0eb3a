package config_test

import (
	"os"
	"strings"
	"testing"

	"github.com/acme/monolith/platform/config"
)

// TestOperationsDocExplainsEveryVariable keeps docs/operations.md's
// configuration table complete.
func TestOperationsDocExplainsEveryVariable(t *testing.T) {
	b, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	names := config.Names()
	if len(names) < 20 {
		t.Fatalf("config.Names() = %v: too few to be real", names)
	}
	for _, name := range names {
		if !strings.Contains(doc, "| `"+name+"` |") {
			t.Errorf("docs/operations.md does not explain %s in its configuration table", name)
		}
	}
}
