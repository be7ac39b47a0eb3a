// Package scaffold generates a feature module: its fx.Module, the four layer
// packages, tests, an ent schema owned by the module, the regenerated ent
// code, the next migration for both dialects and the line that registers
// the module. It is all-or-nothing: on any failure every file it wrote or
// changed is put back as it was.
package scaffold

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"go/format"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strings"
	"text/template"

	"golang.org/x/tools/go/ast/astutil"
)

//go:embed templates/*.tmpl
var templates embed.FS

// Runner runs a command in dir, returning its combined output on failure.
// The go toolchain is the boundary here: tests may substitute a failing one.
type Runner func(ctx context.Context, dir string, env []string, name string, args ...string) error

// Exec is the real Runner.
func Exec(ctx context.Context, dir string, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...) // #nosec G204 -- fixed commands of the generator
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// Options control Generate.
type Options struct {
	// Root is the repository root (holds go.mod).
	Root string
	// Run runs the go toolchain; nil means Exec.
	Run Runner
	// Env is added to the environment of every command (e.g. MIGRATE_DEV_URL).
	Env []string
	// Log receives one line per step; nil discards.
	Log func(format string, args ...any)
}

// Names are the identifiers derived from a module name.
type Names struct {
	Module   string // notes
	Singular string // note: the prefix of the layer packages
	Entity   string // Note: the ent schema type
	EntPkg   string // note: the generated ent package
	Plural   string // notes, in prose
	Title    string // Note, in prose
	Path     string // the Go module path of the repository
}

var validName = regexp.MustCompile(`^[a-z][a-z0-9]{1,29}$`)

// reserved are names a module may not take: the platform, top-level
// directories, and names that would collide with Go or with what ent
// generates. Existing modules and entities are found in the tree when a
// module is generated (Generate), so none is named here.
var reserved = map[string]string{
	"platform": "it is the shared infrastructure", "ent": "it is the generated data package", "internal": "Go gives it a special meaning",
	"test": "it is ambiguous with test packages", "testdata": "the go tool ignores it", "main": "it is the program's package name", "app": "it is the binary's name",
	"modules": "it is the modules directory", "cmd": "it is the commands directory", "migrations": "it is the migrations directory", "docs": "it is the docs directory",
	"vendor": "the go tool gives it a special meaning", "schema": "ent generates this package", "migrate": "ent generates this package",
	"predicate": "ent generates this package", "hook": "ent generates this package", "runtime": "ent generates this package", "enttest": "ent generates this package",
	"privacy": "ent generates this package", "intercept": "ent generates this package", "client": "ent generates the type Client", "tx": "ent generates the type Tx",
	"value": "ent generates the type Value", "mutation": "ent generates the type Mutation", "query": "ent generates the type Query",
	"op": "ent generates the type Op", "order": "ent generates the type Order", "policy": "ent generates the type Policy", "config": "ent generates the type config",
}

// goWords are Go keywords and predeclared identifiers: a package must not
// shadow them.
var goWords = strings.Fields(`break case chan const continue default defer else fallthrough for func go goto if
import interface map package range return select struct switch type var
any bool byte comparable complex64 complex128 error float32 float64 int int8 int16 int32 int64 rune string
uint uint8 uint16 uint32 uint64 uintptr true false iota nil append cap clear close complex copy delete imag len
make max min new panic print println real recover`)

// ErrExists means the module, or its entity, is already there.
var ErrExists = errors.New("already exists")

// Derive validates a module name and derives the other names from it. The
// name is the plural of the entity ("notes" gives the entity Note and the
// packages noteapi, notesvc, notestore, noteschema).
func Derive(name, modulePath string) (Names, error) {
	if !validName.MatchString(name) {
		return Names{}, fmt.Errorf("module name %q: use 2 to 30 lower-case letters and digits, starting with a letter (a Go package name, e.g. notes)", name)
	}
	singular := name
	if strings.HasSuffix(name, "s") && !strings.HasSuffix(name, "ss") {
		singular = strings.TrimSuffix(name, "s")
	}
	for _, n := range []string{name, singular} {
		if why, ok := reserved[n]; ok {
			return Names{}, fmt.Errorf("module name %q is reserved: %s; choose another name", name, why)
		}
		for _, w := range goWords {
			if n == w {
				return Names{}, fmt.Errorf("module name %q is reserved: %q is a Go keyword or predeclared identifier; choose another name", name, n)
			}
		}
	}
	if len(singular) < 2 {
		return Names{}, fmt.Errorf("module name %q is too short; choose a plural noun such as notes", name)
	}
	title := strings.ToUpper(singular[:1]) + singular[1:]
	return Names{Module: name, Singular: singular, Entity: title, EntPkg: singular, Plural: name, Title: title, Path: modulePath}, nil
}

// ModulePath reads the module path from go.mod at root.
func ModulePath(root *os.Root) (string, error) {
	b, err := root.ReadFile("go.mod")
	if err != nil {
		return "", fmt.Errorf("run this from the repository root: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "module "); ok {
			return strings.TrimSpace(rest), nil
		}
	}
	return "", errors.New("go.mod has no module line")
}

// file is one generated file: a template and where it goes.
type file struct{ tmpl, path string }

func files(n Names) []file {
	m := path.Join("modules", n.Module)
	return []file{
		{"schema.go.tmpl", path.Join("ent", "schema", n.EntPkg+".go")},
		{"module.go.tmpl", path.Join(m, n.Module+".go")},
		{"svc.go.tmpl", path.Join(m, n.Singular+"svc", "service.go")},
		{"store.go.tmpl", path.Join(m, n.Singular+"store", "store.go")},
		{"dto.go.tmpl", path.Join(m, n.Singular+"schema", "schema.go")},
		{"api.go.tmpl", path.Join(m, n.Singular+"api", "routes.go")},
		{"api_test.go.tmpl", path.Join(m, n.Singular+"api", "api_test.go")},
	}
}

// Render returns the generated files, gofmt-ed, by path relative to the root.
func Render(n Names) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, f := range files(n) {
		t, err := template.ParseFS(templates, "templates/"+f.tmpl)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, n); err != nil {
			return nil, fmt.Errorf("render %s: %w", f.tmpl, err)
		}
		src, err := format.Source(buf.Bytes())
		if err != nil {
			return nil, fmt.Errorf("format %s: %w", f.path, err)
		}
		out[f.path] = src
	}
	return out, nil
}

// ListFile is the one list of modules the generator edits.
var ListFile = "cmd/app/modules/modules.go"

// Register adds the module's import and `name.Module,` to the list in src.
func Register(src []byte, n Names) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, ListFile, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	if !astutil.AddImport(fset, f, n.Path+"/modules/"+n.Module) {
		return nil, fmt.Errorf("%s already imports modules/%s: %w", ListFile, n.Module, ErrExists)
	}
	var buf bytes.Buffer
	if err := format.Node(&buf, fset, f); err != nil {
		return nil, err
	}
	text := buf.String()
	start := strings.Index(text, "var All = []fx.Option{")
	if start < 0 {
		return nil, fmt.Errorf("%s: cannot find `var All = []fx.Option{`", ListFile)
	}
	end := strings.Index(text[start:], "\n}")
	if end < 0 {
		return nil, fmt.Errorf("%s: cannot find the end of the All list", ListFile)
	}
	at := start + end + 1
	text = text[:at] + "\t" + n.Module + ".Module,\n" + text[at:]
	return format.Source([]byte(text))
}

// Generate creates module name under opts.Root. On failure everything it
// wrote is removed and every file it changed is restored.
func Generate(ctx context.Context, name string, opts Options) (err error) {
	run := opts.Run
	if run == nil {
		run = Exec
	}
	logf := opts.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	// Every file operation goes through root, confined to the repository.
	root, err := os.OpenRoot(opts.Root)
	if err != nil {
		return fmt.Errorf("repository root: %w", err)
	}
	defer func() { _ = root.Close() }()
	modPath, err := ModulePath(root)
	if err != nil {
		return err
	}
	n, err := Derive(name, modPath)
	if err != nil {
		return err
	}
	for _, p := range []string{path.Join("modules", n.Module), path.Join("ent", "schema", n.EntPkg+".go"), path.Join("ent", n.EntPkg)} {
		if _, err := root.Stat(p); err == nil {
			return fmt.Errorf("module %q: %s %w; pick another name or remove it first", name, p, ErrExists)
		}
	}
	rendered, err := Render(n)
	if err != nil {
		return err
	}
	list, err := root.ReadFile(ListFile)
	if err != nil {
		return err
	}
	newList, err := Register(list, n)
	if err != nil {
		return err
	}

	snap, err := takeSnapshot(root, "ent", "migrations", "modules", path.Dir(ListFile))
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			if rerr := snap.restore(); rerr != nil {
				err = fmt.Errorf("%w (and restoring the tree failed: %w)", err, rerr)
			} else {
				err = fmt.Errorf("%w\nnothing was changed: every file written has been removed", err)
			}
		}
	}()

	for _, p := range slices.Sorted(maps.Keys(rendered)) {
		if err := root.MkdirAll(path.Dir(p), 0o750); err != nil {
			return err
		}
		if err := root.WriteFile(p, rendered[p], 0o600); err != nil {
			return err
		}
		logf("wrote %s", p)
	}
	if err := root.WriteFile(ListFile, newList, 0o600); err != nil {
		return err
	}
	logf("registered %s.Module in %s", n.Module, ListFile)

	logf("regenerating ent (go generate ./ent)")
	if err := run(ctx, opts.Root, opts.Env, "go", "generate", "./ent"); err != nil {
		return fmt.Errorf("regenerate ent: %w", err)
	}
	// The migration is planned by a fresh build of the app, which has the
	// new schema compiled in (this process has the old one).
	logf("writing the migration (go run ./cmd/app migrate diff add_%s)", n.Module)
	if err := run(ctx, opts.Root, opts.Env, "go", "run", "./cmd/app", "migrate", "diff", "add_"+n.Module); err != nil {
		return fmt.Errorf("write the migration: %w", err)
	}
	return nil
}
