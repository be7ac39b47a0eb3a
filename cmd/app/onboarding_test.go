package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/acme/monolith/platform/fxgraph"
)

var update = flag.Bool("update", false, "rewrite docs/onboarding.md's picture and docs/onboarding-modules.svg")

var (
	onboardingDoc = filepath.Join("..", "..", "docs", "onboarding.md")
	onboardingSVG = filepath.Join("..", "..", "docs", "onboarding-modules.svg")
	pictureBlock  = regexp.MustCompile("(?s)(<!-- graph:begin[^\n]*-->\n```mermaid\n).*?(```\n<!-- graph:end -->)")
)

// TestOnboardingPictureIsCurrent fails when the module-level picture in
// docs/onboarding.md (Mermaid) or docs/onboarding-modules.svg differs from
// a fresh render of the real module list. `make onboarding` updates both.
func TestOnboardingPictureIsCurrent(t *testing.T) {
	g, err := fxgraph.Collect(appOptions(graphConfig(t)))
	if err != nil {
		t.Fatal(err)
	}
	mermaid := fxgraph.Mermaid(g, "module")
	svg, err := fxgraph.Render(g, "svg", "module")
	if err != nil {
		t.Fatal(err)
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
	const fix = "run `make onboarding` and commit docs/onboarding.md and docs/onboarding-modules.svg"
	if string(fresh) != string(doc) {
		t.Errorf("docs/onboarding.md: the module picture is out of date: %s", fix)
	}
	if old, err := os.ReadFile(onboardingSVG); err != nil || string(old) != string(svg) {
		t.Errorf("docs/onboarding-modules.svg is out of date (%v): %s", err, fix)
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
