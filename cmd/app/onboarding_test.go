package main

import (
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/acme/monolith/platform"
	"github.com/acme/monolith/platform/fxgraph"
)

var update = flag.Bool("update", false, "rewrite docs/onboarding.md's picture and docs/onboarding-modules.svg")

var (
	onboardingDoc = filepath.Join("..", "..", "docs", "onboarding.md")
	onboardingSVG = filepath.Join("..", "..", "docs", "onboarding-modules.svg")
	pictureBlock  = regexp.MustCompile("(?s)(<!-- graph:begin[^\n]*-->\n```mermaid\n).*?(```\n<!-- graph:end -->)")
)

// TestOnboardingPictureIsCurrent redraws the module-level picture in
// docs/onboarding.md (Mermaid) and docs/onboarding-modules.svg from the
// real module list with -update (`make onboarding`, part of `make
// generate`). Without -update it checks the picture can be drawn and only
// logs when the committed one is stale: a freshly generated module must
// not fail `make test`. CI's `make check-generated` regenerates and fails
// on any difference, like ent's generated code.
func TestOnboardingPictureIsCurrent(t *testing.T) {
	g, err := fxgraph.Collect(appOptions(platform.WithConfig(graphConfig(t))))
	if err != nil {
		t.Fatal(err)
	}
	mermaid := fxgraph.Mermaid(g, "module")
	svg, err := fxgraph.Render(g, "svg", "module")
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(svg, new(any)); err != nil {
		t.Fatalf("the module SVG is not well-formed: %v", err)
	}
	doc, err := os.ReadFile(onboardingDoc)
	if err != nil {
		t.Fatal(err)
	}
	if !pictureBlock.Match(doc) {
		t.Fatal("docs/onboarding.md has no graph:begin/graph:end mermaid block")
	}
	fresh := replacePicture(doc, mermaid)
	if *update {
		if err := os.WriteFile(onboardingDoc, fresh, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(onboardingSVG, svg, 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	old, err := os.ReadFile(onboardingSVG)
	if string(fresh) != string(doc) || err != nil || string(old) != string(svg) {
		t.Log("the module picture in docs/ differs from the modules: `make generate` redraws it (CI's make check-generated fails until it is committed)")
	}
}

func replacePicture(doc []byte, mermaid string) []byte {
	loc := pictureBlock.FindSubmatchIndex(doc)
	if loc == nil {
		return doc
	}
	out := append([]byte{}, doc[:loc[3]]...)
	out = append(out, mermaid...)
	return append(out, doc[loc[4]:]...)
}
