package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acme/monolith/platform/buildinfo"
	"github.com/acme/monolith/platform/scaffold"
)

// newName is a name other than the current one, so that the tests rename
// also in a project already renamed (TestStartFromTemplate runs them there).
func newName() string {
	if buildinfo.Service == "billing" {
		return "payments"
	}
	return "billing"
}

// copyInputs copies, from the repository, the files Rename reads into a
// temporary root.
func copyInputs(t *testing.T) string {
	t.Helper()
	src := filepath.Join("..", "..")
	root := t.TempDir()
	paths := []string{"go.mod", serviceFile}
	for _, f := range wordFiles {
		paths = append(paths, f.path)
	}
	for _, m := range modulePaths {
		paths = append(paths, m.path)
	}
	for _, p := range paths {
		b, err := os.ReadFile(filepath.Join(src, p))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		files[path] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestRenameRewritesTheOnePlaceAndWhatCannotDerive(t *testing.T) {
	root := copyInputs(t)
	name := newName()
	res, err := Rename(root, name)
	if err != nil {
		t.Fatal(err)
	}
	if res.Old != buildinfo.Service || res.New != name {
		t.Errorf("result = %+v", res)
	}
	if len(res.Changed) != len(wordFiles)+1 { // every word file, and buildinfo; the module-path mentions already name go.mod's module
		t.Errorf("changed %d files %v, want %d", len(res.Changed), res.Changed, len(wordFiles)+1)
	}
	b, _ := os.ReadFile(filepath.Join(root, serviceFile))
	if !strings.Contains(string(b), `var Service = "`+name+`"`) {
		t.Error("buildinfo.Service was not rewritten")
	}
	module, err := modulePathOf(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range wordFiles {
		b, _ := os.ReadFile(filepath.Join(root, f.path))
		body := strings.ReplaceAll(strings.ReplaceAll(string(b), module, ""), "modular "+buildinfo.Service, "")
		if n := countWord([]byte(body), buildinfo.Service); n > 0 {
			t.Errorf("%s still names %s (%d times)", f.path, buildinfo.Service, n)
		}
	}
	k, _ := os.ReadFile(filepath.Join(root, "deploy/base/kustomization.yaml"))
	if !strings.Contains(string(k), "      - name="+name+"\n") {
		t.Error("the kustomize value was not rewritten")
	}

	// Idempotent: the same name again writes nothing.
	before := snapshot(t, root)
	res, err = Rename(root, name)
	if err != nil || len(res.Changed) != 0 {
		t.Fatalf("second rename: %v, changed %v", err, res.Changed)
	}
	if after := snapshot(t, root); len(after) != len(before) || !equal(before, after) {
		t.Error("second rename changed a file")
	}
}

func TestRenameFollowsGoModsModule(t *testing.T) {
	root := copyInputs(t)
	mod := filepath.Join(root, "go.mod")
	b, _ := os.ReadFile(mod)
	_, rest, _ := strings.Cut(string(b), "\n")
	if err := os.WriteFile(mod, []byte("module example.com/you/shop\n"+rest), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Rename(root, newName()); err != nil {
		t.Fatal(err)
	}
	for _, m := range modulePaths {
		b, _ := os.ReadFile(filepath.Join(root, m.path))
		for _, sub := range m.re.FindAllSubmatch(b, -1) {
			if string(sub[1]) != "example.com/you/shop" {
				t.Errorf("%s names module %s", m.path, sub[1])
			}
		}
	}
}

func TestRenameRefusesAndChangesNothing(t *testing.T) {
	for _, tc := range []struct{ name, want string }{
		{"", "empty"},
		{"Shop", "not a DNS label"},
		{"shop_eu", "not a DNS label"},
		{"1shop", "not a DNS label"},
		{"shop-", "not a DNS label"},
		{"shop.eu", "not a DNS label"},
		{strings.Repeat("a", 41), "at most 40"},
		{"app", "already a word"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := copyInputs(t)
			before := snapshot(t, root)
			_, err := Rename(root, tc.name)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Rename(%q) = %v, want an error saying %q", tc.name, err, tc.want)
			}
			if !equal(before, snapshot(t, root)) {
				t.Error("a refused rename changed files")
			}
		})
	}
	// Control: the longest allowed name is accepted.
	if err := Check(strings.Repeat("a", 40)); err != nil {
		t.Fatal(err)
	}
}

// A file that no longer names the service stops the rename before
// anything is written: half a rename would be worse than none.
func TestRenameStopsOnAFileThatLostTheName(t *testing.T) {
	root := copyInputs(t)
	if err := os.WriteFile(filepath.Join(root, "compose.yaml"), []byte("name: other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, root)
	if _, err := Rename(root, newName()); err == nil || !strings.Contains(err.Error(), "compose.yaml") {
		t.Fatalf("err = %v, want one naming compose.yaml", err)
	}
	if !equal(before, snapshot(t, root)) {
		t.Error("a failed rename changed files")
	}
}

func TestReplaceWordKeepsTheArchitecture(t *testing.T) {
	in := "# store\nA modular store. store-config, @store/api, acme/store:v1; stores, xstore, store_x.\n"
	got, n := replaceWord([]byte(in), "store", "shop")
	want := "# shop\nA modular store. shop-config, @shop/api, acme/shop:v1; stores, xstore, store_x.\n"
	if string(got) != want || n != 4 {
		t.Errorf("replaceWord = %q (%d), want %q (4)", got, n, want)
	}
}

func equal(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func modulePathOf(dir string) (string, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return "", err
	}
	defer func() { _ = root.Close() }()
	return scaffold.ModulePath(root)
}
