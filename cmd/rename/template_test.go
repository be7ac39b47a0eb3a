package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"

	"github.com/acme/monolith/platform/testkit"
)

// templateVersion is the version the test's proxy serves the repository at.
const templateVersion = "v1.0.0"

// TestStartFromTemplate does what docs/starting.md tells a team to do,
// offline: it serves this repository from a file-based GOPROXY, runs gonew
// (the x/tools version in go.mod) into a temporary directory, runs `make
// rename`, then builds, vets and tests a meaningful subset of the result
// with the network off (GOPROXY=off: every dependency comes from the
// module cache), checks that a second rename changes nothing and that the
// old name and module path are gone but for what docs/starting.md lists.
//
// It builds and tests a second copy of the repository, so it takes
// minutes: `go test -short` skips it; `make test` runs it once.
func TestStartFromTemplate(t *testing.T) {
	if testing.Short() {
		t.Skip("slow end-to-end template test: skipped with -short")
	}
	if testkit.BehindPgBouncer() {
		t.Skip("the template's own suite is not the pooler's business; it ran in the first pass")
	}
	for _, tool := range []string{"git", "make", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	src, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	srcMod, err := modulePathOf(src)
	if err != nil {
		t.Fatal(err)
	}
	const dstMod, name = "example.com/you/shop", "shop"
	oldName := readService(t, src)

	proxy := filepath.Join(tmp, "proxy")
	serveModule(t, src, proxy, module.Version{Path: srcMod, Version: templateVersion})
	gonew := filepath.Join(tmp, "gonew")
	run(t, src, nil, "go", "build", "-o", gonew, "golang.org/x/tools/cmd/gonew")

	// gonew downloads the template into a module cache of its own, so the
	// shared one never holds this made-up version.
	dst := filepath.Join(tmp, "shop")
	run(t, tmp, []string{
		"GOPROXY=file://" + filepath.ToSlash(proxy),
		"GONOSUMDB=" + srcMod, "GONOSUMCHECK=1", "GOFLAGS=-modcacherw",
		"GOMODCACHE=" + filepath.Join(tmp, "modcache"),
	}, gonew, srcMod+"@"+templateVersion, dstMod, dst)

	// From here on nothing may come from the network.
	offline := []string{"GOPROXY=off", "GOTOOLCHAIN=local"}
	out := run(t, dst, offline, "make", "rename", "name="+name)
	if !strings.Contains(out, "renamed the service "+oldName+" to "+name) {
		t.Fatalf("make rename said:\n%s", out)
	}
	if got := readService(t, dst); got != name {
		t.Fatalf("buildinfo.Service = %q after make rename, want %q", got, name)
	}
	before := fingerprint(t, dst)
	out = run(t, dst, offline, "make", "rename", "name="+name)
	if !strings.Contains(out, "nothing changed") {
		t.Errorf("a second make rename said:\n%s", out)
	}
	if after := fingerprint(t, dst); !maps.Equal(before, after) {
		t.Errorf("a second make rename changed files: %v", diffKeys(before, after))
	}

	for _, left := range leftovers(t, dst, oldName, srcMod) {
		t.Errorf("the old name is left: %s", left)
	}

	run(t, dst, offline, "go", "build", "./...")
	run(t, dst, offline, "go", "vet", "./...")
	out = run(t, dst, offline, "go", "test", "-count=1", "-short",
		"./cmd/app/...", "./cmd/internal/appcmd/...", "./cmd/rename/...", "./platform/config/...", "./platform/buildinfo/...", "./platform/archtest/...", "./deploy/...")
	t.Logf("tests of the result:\n%s", out)

	// The derived defaults follow the name.
	out = run(t, dst, offline, "go", "run", "./cmd/app-dev", "openapi")
	var doc struct {
		Info struct{ Title string } `json:"info"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Info.Title != "Shop API" {
		t.Errorf("OpenAPI title = %q (%v), want Shop API", doc.Info.Title, err)
	}
	for _, want := range []string{"JWT_ISSUER=shop", "JWT_AUDIENCE=shop-api", "OTEL_SERVICE_NAME=shop"} {
		if b, err := os.ReadFile(filepath.Join(dst, ".env.example")); err != nil || !bytes.Contains(b, []byte(want)) {
			t.Errorf(".env.example lacks %s", want)
		}
	}
}

// serveModule writes the repository's files (tracked and untracked, not
// ignored) as version v of module m in the GOPROXY layout under dir.
func serveModule(t *testing.T, src, dir string, m module.Version) {
	t.Helper()
	files := repoFiles(t, src)
	at := filepath.Join(dir, filepath.FromSlash(m.Path), "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := zip.Create(&buf, m, files); err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(src, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	info, _ := json.Marshal(map[string]any{"Version": m.Version, "Time": time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	for name, body := range map[string][]byte{
		"list": []byte(m.Version + "\n"), m.Version + ".info": info,
		m.Version + ".mod": mod, m.Version + ".zip": buf.Bytes(),
	} {
		if err := os.WriteFile(filepath.Join(at, name), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("template zip: %d files, %d KiB", len(files), buf.Len()>>10)
}

// repoFile is a file of the working tree, for zip.Create.
type repoFile struct{ root, path string }

func (f repoFile) Path() string                 { return f.path }
func (f repoFile) Lstat() (os.FileInfo, error)  { return os.Lstat(filepath.Join(f.root, f.path)) }
func (f repoFile) Open() (io.ReadCloser, error) { return os.Open(filepath.Join(f.root, f.path)) }

// repoFiles lists what git would commit: the working tree, not HEAD, so
// the test sees uncommitted work; ignored files (node_modules, var/) stay out.
func repoFiles(t *testing.T, root string) []zip.File {
	t.Helper()
	out := run(t, root, nil, "git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	var files []zip.File
	for _, p := range strings.Split(strings.TrimRight(out, "\x00"), "\x00") {
		if _, err := os.Lstat(filepath.Join(root, p)); err != nil {
			continue // deleted in the working tree
		}
		files = append(files, repoFile{root, p})
	}
	return files
}

// leftovers are the lines of the result that still carry the old name or
// module path, apart from the deliberate ones docs/starting.md lists: the
// architecture's name ("modular monolith") and an entry of the list of
// common passwords.
func leftovers(t *testing.T, root, oldName, oldModule string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if d.Name() == "node_modules" || rel == "var" || rel == "bin" {
				return filepath.SkipDir
			}
			return nil
		}
		if filepath.ToSlash(rel) == "platform/password/common-passwords.txt" {
			return nil
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<24)
		for n := 1; sc.Scan(); n++ {
			line := strings.ToLower(sc.Text())
			if strings.Contains(line, strings.ToLower(oldModule)) {
				found = append(found, rel+":"+strconv.Itoa(n)+": "+strings.TrimSpace(sc.Text()))
				continue
			}
			if strings.Contains(strings.ReplaceAll(line, "modular "+oldName, ""), oldName) {
				found = append(found, rel+":"+strconv.Itoa(n)+": "+strings.TrimSpace(sc.Text()))
			}
		}
		return sc.Err()
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func readService(t *testing.T, root string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, serviceFile))
	if err != nil {
		t.Fatal(err)
	}
	name, _, err := serviceLiteral(b)
	if err != nil {
		t.Fatal(err)
	}
	return name
}

func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	start := time.Now()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("%s %s: %.1fs", name, strings.Join(args, " "), time.Since(start).Seconds())
	if err != nil {
		t.Fatalf("%s %s in %s: %v\n%s%s", name, strings.Join(args, " "), dir, err, stdout.Bytes(), stderr.Bytes())
	}
	return stdout.String()
}

// fingerprint hashes every file of the tree but build output.
func fingerprint(t *testing.T, root string) map[string][32]byte {
	t.Helper()
	sums := map[string][32]byte{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if d.Name() == "node_modules" || rel == "var" || rel == "bin" {
				return filepath.SkipDir
			}
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		sums[rel] = sha256.Sum256(b)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func diffKeys(a, b map[string][32]byte) []string {
	var d []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			d = append(d, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			d = append(d, k)
		}
	}
	slices.Sort(d)
	return d
}
