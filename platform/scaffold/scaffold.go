// Package scaffold generates a feature module: its fx.Module with every
// contribution a module can make (routes, settings, metrics, a command, a
// readiness check), the four layer packages, tests, an ent schema owned by the module, the regenerated ent
// code, the next migration for both dialects and the lines that register
// the module. It is all-or-nothing: on any failure every file it wrote or
// changed is put back as it was.
package scaffold

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
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
	// Entity names the ent schema; empty derives it from the module name.
	Entity string
}

// Names are the identifiers derived from a module name.
type Names struct {
	Module   string // notes
	Singular string // note: the prefix of the layer packages
	Entity   string // Note: the ent schema type (--entity, or derived)
	EntPkg   string // note: the generated ent package, the lower-cased entity
	Plural   string // notes, in prose
	Title    string // Note, in prose
	// EnvPrefix starts the module's environment variables: NOTES.
	EnvPrefix string
	Path      string // the Go module path of the repository
	// Renamed, when the entity is not the module's singular, says why.
	Renamed string
}

var validName = regexp.MustCompile(`^[a-z][a-z0-9]{1,29}$`)

// reserved are module names taken by the repository itself: the platform,
// top-level directories and names Go treats specially. Existing modules
// and entities are found in the tree when a module is generated
// (Generate), and what would collide with ent's generated code is asked of
// ent itself (entityName), so neither is named here.
var reserved = map[string]string{
	"platform": "it is the shared infrastructure", "ent": "it is the generated data package", "internal": "Go gives it a special meaning",
	"test": "it is ambiguous with test packages", "testdata": "the go tool ignores it", "main": "it is the program's package name", "app": "it is the binary's name",
	"modules": "it is the modules directory", "cmd": "it is the commands directory", "migrations": "it is the migrations directory", "docs": "it is the docs directory",
	"vendor": "the go tool gives it a special meaning",
}

// validEntity is an ent schema name: an exported Go identifier.
var validEntity = regexp.MustCompile(`^[A-Z][A-Za-z0-9]{1,39}$`)

// entitySuffix makes the default entity name when the module's singular
// collides with an identifier of ent's generated code: "values" gives
// ValueRecord, since Value is ent's.
const entitySuffix = "Record"

// entityName checks an entity name the way ent's own ValidSchemaName
// (entc/gen) does: its lower-cased form, the entity's package, must not
// be a Go keyword or predeclared identifier, and neither form may be an
// identifier that ent declares in the generated package (Client, Value,
// Mutation...). Those are read from the generated package itself
// (EntIdents), so the list is ent's, for the features we generate, rather
// than a copy; linking entc/gen instead would cost every start of the
// binary ~13 MB and its template parsing. A test checks the two agree.
func entityName(name string, entIdents map[string]bool) error {
	if !validEntity.MatchString(name) {
		return fmt.Errorf("entity name %q: use 2 to 40 letters and digits starting with an upper-case letter (a Go type name, e.g. PurchaseOrder)", name)
	}
	pkg := strings.ToLower(name)
	if slices.Contains(goWords, pkg) {
		return fmt.Errorf("entity name %q: its package %q is a Go keyword or predeclared identifier", name, pkg)
	}
	for _, id := range []string{name, pkg} {
		if entIdents[id] {
			return fmt.Errorf("entity name %q: ent's generated package declares %q", name, id)
		}
	}
	return nil
}

// EntIdents returns the identifiers declared at the top level of the
// generated ent package under root (ent/*.go) and the names of its
// subpackages (ent/schema, ent/migrate...).
func EntIdents(root *os.Root) (map[string]bool, error) {
	entries, err := fs.ReadDir(root.FS(), "ent")
	if err != nil {
		return nil, fmt.Errorf("read the generated ent package: %w", err)
	}
	ids := map[string]bool{}
	fset := token.NewFileSet()
	for _, e := range entries {
		if e.IsDir() {
			// A subpackage: an entity's package must not take its name.
			ids[e.Name()] = true
			continue
		}
		if !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		src, err := root.ReadFile(path.Join("ent", e.Name()))
		if err != nil {
			return nil, err
		}
		f, err := parser.ParseFile(fset, e.Name(), src, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("parse ent/%s: %w", e.Name(), err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					ids[d.Name.Name] = true
				}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					switch sp := spec.(type) {
					case *ast.TypeSpec:
						ids[sp.Name.Name] = true
					case *ast.ValueSpec:
						for _, n := range sp.Names {
							ids[n.Name] = true
						}
					}
				}
			}
		}
	}
	return ids, nil
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
// packages noteapi, notesvc, notestore, noteschema). entity, when not
// empty, names the ent schema instead (--entity); otherwise a singular
// that ent refuses as a schema name gets entitySuffix, and Names.Renamed
// says why.
func Derive(name, entity, modulePath string, entIdents map[string]bool) (Names, error) {
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
	taken, err := generatedNames()
	if err != nil {
		return Names{}, err
	}
	if taken[name] {
		return Names{}, fmt.Errorf("module name %q is reserved: the generated code declares or imports %q, which the module's package would hide; choose another name", name, name)
	}
	if len(singular) < 2 {
		return Names{}, fmt.Errorf("module name %q is too short; choose a plural noun such as notes", name)
	}
	title := strings.ToUpper(singular[:1]) + singular[1:]
	n := Names{Module: name, Singular: singular, Entity: title, Plural: name, Title: title, EnvPrefix: strings.ToUpper(name), Path: modulePath}
	switch {
	case entity != "":
		if err := entityName(entity, entIdents); err != nil {
			return Names{}, err
		}
		n.Entity = entity
	case entityName(title, entIdents) != nil:
		n.Renamed = fmt.Sprintf("%v; the entity is %s%s instead (choose another with --entity)", entityName(title, entIdents), title, entitySuffix)
		n.Entity = title + entitySuffix
		if err := entityName(n.Entity, entIdents); err != nil {
			return Names{}, fmt.Errorf("module name %q: %w; pass --entity", name, err)
		}
	}
	// ent names an entity's package after the lower-cased type name.
	n.EntPkg = strings.ToLower(n.Entity)
	return n, nil
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
		{"settings.go.tmpl", path.Join(m, "settings.go")},
		{"metrics.go.tmpl", path.Join(m, "metrics.go")},
		{"health.go.tmpl", path.Join(m, "health.go")},
		{"commands.go.tmpl", path.Join(m, "commands.go")},
		{"events.go.tmpl", path.Join(m, "events.go")},
		{"module_test.go.tmpl", path.Join(m, n.Module+"_test.go")},
		{"svc.go.tmpl", path.Join(m, n.Singular+"svc", "service.go")},
		{"svc_test.go.tmpl", path.Join(m, n.Singular+"svc", "service_test.go")},
		{"store.go.tmpl", path.Join(m, n.Singular+"store", "store.go")},
		{"store_test.go.tmpl", path.Join(m, n.Singular+"store", "store_test.go")},
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

// Register adds the module to the list in src as two new lines: its own
// import declaration after the last one, and `name.Module,` at the end of
// All. Lines that only ever get added merge cleanly from two branches with
// the union driver .gitattributes sets for the list; an addition inside a
// parenthesised import block would not, since gofmt keeps that block sorted
// and a union merge does not.
func Register(src []byte, n Names) ([]byte, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, ListFile, src, parser.ParseComments)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", ListFile, err)
	}
	importPath := n.Path + "/modules/" + n.Module
	var lastImport token.Pos
	for _, spec := range f.Imports {
		if p, _ := strconv.Unquote(spec.Path.Value); p == importPath {
			return nil, fmt.Errorf("%s already imports modules/%s: %w", ListFile, n.Module, ErrExists)
		}
	}
	var list *ast.CompositeLit
	for _, d := range f.Decls {
		gd, ok := d.(*ast.GenDecl)
		if !ok {
			continue
		}
		if gd.Tok == token.IMPORT {
			lastImport = gd.End()
		}
		if gd.Tok != token.VAR {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			if len(vs.Names) == 1 && vs.Names[0].Name == "All" && len(vs.Values) == 1 {
				list, _ = vs.Values[0].(*ast.CompositeLit)
			}
		}
	}
	if lastImport == token.NoPos {
		return nil, fmt.Errorf("%s has no import declaration", ListFile)
	}
	if list == nil {
		return nil, fmt.Errorf("%s: cannot find `var All = []fx.Option{...}`", ListFile)
	}
	at := func(p token.Pos) int { return fset.Position(p).Offset }
	// The entry goes on its own line before the closing brace, which gofmt
	// keeps on a line of its own in a multi-line literal.
	rbrace := at(list.Rbrace)
	lineStart := bytes.LastIndexByte(src[:rbrace], '\n') + 1
	var out bytes.Buffer
	out.Write(src[:at(lastImport)])
	fmt.Fprintf(&out, "\nimport %s", strconv.Quote(importPath))
	out.Write(src[at(lastImport):lineStart])
	fmt.Fprintf(&out, "\t%s.Module,\n", n.Module)
	out.Write(src[lineStart:])
	return format.Source(out.Bytes())
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
	idents, err := EntIdents(root)
	if err != nil {
		return err
	}
	n, err := Derive(name, opts.Entity, modPath, idents)
	if err != nil {
		return err
	}
	if n.Renamed != "" {
		logf("entity %s: %s", n.Title, n.Renamed)
	} else if n.Entity != n.Title {
		logf("entity %s (--entity), packages %sapi, %ssvc, %sstore, %sschema", n.Entity, n.Singular, n.Singular, n.Singular, n.Singular)
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
	logf("writing the migration (go run ./cmd/app-dev migrate diff add_%s)", n.Module)
	if err := run(ctx, opts.Root, opts.Env, "go", "run", "./cmd/app-dev", "migrate", "diff", "add_"+n.Module); err != nil {
		return fmt.Errorf("write the migration: %w", err)
	}
	return nil
}
