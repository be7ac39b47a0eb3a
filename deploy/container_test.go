package deploy_test

import (
	"bufio"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// shellWords splits a command line as a shell would for the simple cases
// used here: blanks separate words, double quotes group them.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inQuote, inWord := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote, inWord = !inQuote, true
		case (r == ' ' || r == '\t') && !inQuote:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// canonical drops the output path, which differs by design, and names the
// version placeholder the same way.
func canonical(words []string) []string {
	var out []string
	for i := 0; i < len(words); i++ {
		if words[i] == "-o" {
			i++
			continue
		}
		out = append(out, words[i])
	}
	return out
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}

// makefileBuild expands the Makefile's build recipe with its variables.
func makefileBuild(t *testing.T) []string {
	t.Helper()
	lines := readLines(t, "../Makefile")
	vars := map[string]string{"GO": "go", "VERSION": "VERSION"}
	assign := regexp.MustCompile(`^([A-Z_]+)\s*[:?]?=\s*(.*)$`)
	for _, l := range lines {
		if m := assign.FindStringSubmatch(l); m != nil && m[1] == "LDFLAGS" {
			vars[m[1]] = m[2]
		}
		// The module path, which the Dockerfile asks go for in the same way.
		if m := assign.FindStringSubmatch(l); m != nil && m[1] == "MODULE" && m[2] == "$(shell $(GO) list -m)" {
			vars[m[1]] = "$(go list -m)"
		}
	}
	for i, l := range lines {
		if strings.HasPrefix(l, "build:") {
			recipe := strings.TrimSpace(lines[i+1])
			for range 3 { // nested variables
				for k, v := range vars {
					recipe = strings.ReplaceAll(recipe, "$("+k+")", v)
				}
			}
			return canonical(shellWords(recipe))
		}
	}
	t.Fatal("no build target in the Makefile")
	return nil
}

type dockerfile struct {
	froms, users, entrypoints []string
	runs                      []string
	lines                     []string
}

func parseDockerfile(t *testing.T) dockerfile {
	t.Helper()
	var d dockerfile
	for _, l := range readLines(t, "../Dockerfile") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		d.lines = append(d.lines, l)
		instr, rest, _ := strings.Cut(l, " ")
		switch strings.ToUpper(instr) {
		case "FROM":
			d.froms = append(d.froms, rest)
		case "USER":
			d.users = append(d.users, rest)
		case "ENTRYPOINT":
			d.entrypoints = append(d.entrypoints, rest)
		case "RUN":
			d.runs = append(d.runs, rest)
		}
	}
	return d
}

// TestDockerfileBuildsLikeTheMakefile: the image's binary is built by the
// same command as `make build`, so what is tested is what ships.
func TestDockerfileBuildsLikeTheMakefile(t *testing.T) {
	d := parseDockerfile(t)
	var docker []string
	for _, r := range d.runs {
		if strings.Contains(r, "go build") {
			docker = canonical(shellWords(strings.ReplaceAll(r, "${VERSION}", "VERSION")))
		}
	}
	mk := makefileBuild(t)
	if docker == nil || !slices.Equal(docker, mk) {
		t.Fatalf("build commands differ:\nDockerfile: %q\nMakefile:   %q", docker, mk)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath"} {
		if !slices.Contains(mk, want) {
			t.Errorf("build command lacks %s", want)
		}
	}
	if i := slices.Index(mk, "-ldflags"); i < 0 || !strings.HasPrefix(mk[i+1], "-s -w -X $(go list -m)/platform/buildinfo.Version=") {
		t.Errorf("build command does not strip and stamp the version: %q", mk)
	}
	// Control: a changed flag is noticed.
	if slices.Equal(canonical(shellWords(strings.Replace(strings.Join(mk, " "), "-trimpath", "-race", 1))), mk) {
		t.Fatal("the comparison cannot fail")
	}
}

// TestDockerfileShape checks deploy.md property 19.
func TestDockerfileShape(t *testing.T) {
	d := parseDockerfile(t)
	if len(d.froms) < 2 {
		t.Fatalf("not multi-stage: %v", d.froms)
	}
	final := d.froms[len(d.froms)-1]
	if !strings.HasPrefix(final, "gcr.io/distroless/static") || !strings.Contains(final, "nonroot") {
		t.Errorf("final stage %q is not distroless static nonroot", final)
	}
	download := slices.IndexFunc(d.lines, func(l string) bool { return l == "RUN go mod download" })
	copyAll := slices.IndexFunc(d.lines, func(l string) bool { return strings.HasPrefix(l, "COPY . ") })
	copyMod := slices.IndexFunc(d.lines, func(l string) bool { return strings.HasPrefix(l, "COPY go.mod go.sum") })
	if download < 0 || copyMod < 0 || copyAll < 0 || copyMod > download || download > copyAll {
		t.Error("the module download must be its own layer: COPY go.mod go.sum, RUN go mod download, then COPY . .")
	}
	if len(d.users) == 0 {
		t.Fatal("no USER")
	}
	uid, _, _ := strings.Cut(d.users[len(d.users)-1], ":")
	if n, err := strconv.Atoi(uid); err != nil || n == 0 {
		t.Errorf("USER %q must be numeric and not root", d.users[len(d.users)-1])
	}
	if len(d.entrypoints) != 1 || !strings.HasPrefix(d.entrypoints[0], "[") {
		t.Errorf("ENTRYPOINT must be exec form (a JSON array): %v", d.entrypoints)
	}
}

// isStatic reports whether an ELF file needs no dynamic loader or library.
func isStatic(t *testing.T, path string) bool {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	libs, err := f.ImportedLibraries()
	return err == nil && len(libs) == 0
}

// TestStaticBinaryRuns builds with `make build` and checks the binary is
// static (it must run on distroless/static, which has no libc) and runs.
func TestStaticBinaryRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "app")
	cmd := exec.Command("make", "-C", "..", "build", "BIN="+bin, "VERSION=v9.8.7-test")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	if !isStatic(t, bin) {
		t.Fatal("the binary is dynamically linked")
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "v9.8.7-test" {
		t.Fatalf("app version: %q %v (the version is not stamped)", out, err)
	}
	// Control: the check recognises a dynamic executable (Debian's ls is one).
	if ls, err := filepath.EvalSymlinks("/bin/ls"); err == nil && isStatic(t, ls) {
		t.Fatalf("isStatic says %s is static", ls)
	}
}
