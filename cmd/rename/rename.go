package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strconv"

	"github.com/acme/monolith/platform/scaffold"
)

// serviceFile holds buildinfo.Service, the one place the name is written
// for the Go code; everything in Go derives from it.
const serviceFile = "platform/buildinfo/buildinfo.go"

// maxLen keeps every derived Kubernetes name valid: the longest is the
// CronJob NAME-rotate-keys, and a CronJob's name may have 52 characters.
const maxLen = 52 - len("-rotate-keys")

// label is an RFC 1035 label, what Kubernetes requires of a Service's
// name (a DNS-1123 label that starts with a letter).
var label = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)

// wordFiles cannot derive the name, so they carry it as a word: each is
// read by a tool that has no access to buildinfo.Service.
// In the files marked config the name must not already be a word: there
// a later rename would change it too (`app` is the container's name).
var wordFiles = []struct {
	path, why string
	config    bool
}{
	{"deploy/base/kustomization.yaml", "the one value every manifest derives from", true},
	{"deploy/overlays/dev/kustomization.yaml", "namespace, image repository, the generated ConfigMap it merges into", true},
	{"deploy/overlays/prod/kustomization.yaml", "namespace, image repository, the generated ConfigMap it merges into", true},
	{"deploy/examples/atlasmigration.yaml", "applied by hand, outside kustomize", true},
	{"deploy/examples/servicemonitor.yaml", "applied by hand, outside kustomize", true},
	{"deploy/examples/podmonitor.yaml", "applied by hand, outside kustomize", true},
	{"compose.yaml", "the compose project's name and the mail sender", true},
	{"Makefile", "the IMAGE default", true},
	{"README.md", "the title and the names in the examples", false},
	{"docs/operations.md", "the runbook's commands and object names", false},
	{"clients/ts/package.json", "the npm package's name", false},
	{"clients/ts/package-lock.json", "the npm package's name", false},
	{"clients/ts/src/index.ts", "the client's doc comment", false},
	{"tools/openapi/package.json", "the npm package's name", false},
	{"tools/openapi/package-lock.json", "the npm package's name", false},
}

// modulePaths are the places, outside go.mod and imports, that name the
// module path: gonew rewrites only go.mod and imports, so these take the
// path go.mod now declares.
var modulePaths = []struct {
	path string
	re   *regexp.Regexp // group 1 is the module path
}{
	{".golangci.yml", regexp.MustCompile(`\(\*(\S+)/platform/database\.DB\)\.Close`)},
	{"README.md", regexp.MustCompile(`gonew@\S+ (\S+) example\.com/`)},
	{"docs/starting.md", regexp.MustCompile(`gonew@\S+ (\S+) example\.com/`)},
}

// Result says what a rename did.
type Result struct {
	Old, New string
	Changed  []string // paths relative to the root, in the order written
}

// Rename gives the service in the repository at root the name name: it
// rewrites buildinfo.Service and every file that cannot derive the name,
// and points the module-path mentions at go.mod's module. Nothing is
// written unless every edit succeeds; running it again changes nothing.
func Rename(dir, name string) (Result, error) {
	if err := Check(name); err != nil {
		return Result{}, err
	}
	// Every file operation goes through root, confined to the repository.
	root, err := os.OpenRoot(dir)
	if err != nil {
		return Result{}, fmt.Errorf("repository root: %w", err)
	}
	defer func() { _ = root.Close() }()
	module, err := scaffold.ModulePath(root)
	if err != nil {
		return Result{}, err
	}
	src, err := root.ReadFile(serviceFile)
	if err != nil {
		return Result{}, err
	}
	old, lit, err := serviceLiteral(src)
	if err != nil {
		return Result{}, err
	}
	res := Result{Old: old, New: name}
	edits := map[string][]byte{}
	read := func(path string) ([]byte, error) {
		if b, ok := edits[path]; ok {
			return b, nil
		}
		return root.ReadFile(path)
	}
	for _, f := range wordFiles {
		b, err := read(f.path)
		if err != nil {
			return res, fmt.Errorf("%s (%s): %w", f.path, f.why, err)
		}
		if old != name && f.config {
			if n := countWord(b, name); n > 0 {
				return res, fmt.Errorf("%q is already a word of %s: a later rename would change it too; choose another name", name, f.path)
			}
		}
		out, n := replaceWord(b, old, name)
		if n == 0 && old != name {
			return res, fmt.Errorf("%s (%s) does not name the service %q: it was edited by hand; rename it there first", f.path, f.why, old)
		}
		edits[f.path] = out
	}
	for _, m := range modulePaths {
		b, err := read(m.path)
		if err != nil {
			return res, fmt.Errorf("%s: %w", m.path, err)
		}
		idx := m.re.FindAllSubmatchIndex(b, -1)
		if len(idx) == 0 {
			return res, fmt.Errorf("%s no longer matches %s: update cmd/rename", m.path, m.re)
		}
		var out []byte
		last := 0
		for _, ix := range idx {
			out = append(append(out, b[last:ix[2]]...), module...)
			last = ix[3]
		}
		edits[m.path] = append(out, b[last:]...)
	}
	// The one place last, after every other edit is known to apply.
	edits[serviceFile] = append(append(append([]byte{}, src[:lit.start]...), strconv.Quote(name)...), src[lit.end:]...)
	order := make([]string, 0, len(edits))
	for _, f := range wordFiles {
		order = append(order, f.path)
	}
	for _, m := range modulePaths {
		order = append(order, m.path)
	}
	order = append(order, serviceFile)
	for _, path := range order {
		b, ok := edits[path]
		if !ok {
			continue
		}
		delete(edits, path)
		cur, err := root.ReadFile(path)
		if err != nil {
			return res, err
		}
		if bytes.Equal(cur, b) {
			continue
		}
		info, err := root.Stat(path)
		if err != nil {
			return res, err
		}
		if err := root.WriteFile(path, b, info.Mode().Perm()); err != nil {
			return res, err
		}
		res.Changed = append(res.Changed, path)
	}
	return res, nil
}

// Check refuses a name Kubernetes would refuse in an object's name, or
// that makes a derived name too long.
func Check(name string) error {
	switch {
	case name == "":
		return errors.New("the name is empty")
	case len(name) > maxLen:
		return fmt.Errorf("%q is %d characters: at most %d, so that %s-rotate-keys is a valid CronJob name", name, len(name), maxLen, name)
	case !label.MatchString(name):
		return fmt.Errorf("%q is not a DNS label: lower-case letters, digits and '-', starting with a letter and not ending with '-' (Kubernetes names carry it)", name)
	}
	return nil
}

type span struct{ start, end int }

// serviceLiteral finds `var Service = "..."` in buildinfo.go.
func serviceLiteral(src []byte) (string, span, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, serviceFile, src, parser.ParseComments)
	if err != nil {
		return "", span{}, err
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.VAR {
			continue
		}
		for _, s := range g.Specs {
			v := s.(*ast.ValueSpec)
			if len(v.Names) != 1 || v.Names[0].Name != "Service" || len(v.Values) != 1 {
				continue
			}
			lit, ok := v.Values[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return "", span{}, fmt.Errorf("%s: Service must be a string literal", serviceFile)
			}
			name, err := strconv.Unquote(lit.Value)
			if err != nil {
				return "", span{}, err
			}
			if err := Check(name); err != nil {
				return "", span{}, fmt.Errorf("%s: %w", serviceFile, err)
			}
			return name, span{fset.Position(lit.Pos()).Offset, fset.Position(lit.End()).Offset}, nil
		}
	}
	return "", span{}, fmt.Errorf("%s declares no var Service", serviceFile)
}

// architecture is the one phrase that keeps the word: the architecture's
// name, not the service's.
var architecture = []byte("modular ")

// replaceWord replaces each occurrence of old that is a whole word (not
// inside a longer run of letters and digits) and not the architecture's
// name.
func replaceWord(b []byte, old, name string) ([]byte, int) {
	var out []byte
	n, last := 0, 0
	for _, i := range wordIndexes(b, old) {
		out = append(append(out, b[last:i]...), name...)
		last = i + len(old)
		n++
	}
	return append(out, b[last:]...), n
}

func countWord(b []byte, w string) int { return len(wordIndexes(b, w)) }

func wordIndexes(b []byte, w string) []int {
	var idx []int
	for off := 0; ; {
		i := bytes.Index(b[off:], []byte(w))
		if i < 0 {
			return idx
		}
		i += off
		off = i + len(w)
		if i > 0 && isWordByte(b[i-1]) || off < len(b) && isWordByte(b[off]) {
			continue
		}
		if bytes.HasSuffix(bytes.ToLower(b[:i]), architecture) {
			continue
		}
		idx = append(idx, i)
	}
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_'
}
