// Package archtest enforces the module architecture: layering inside a
// module, no imports between modules, each ent entity used only by the
// module that owns it, and DTOs that never expose ent types. Check runs
// over any repository of this shape; the package's tests run it over this
// one (and over fixtures that break each rule), so `make test` fails with a
// message saying what to do instead.
package archtest

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/tools/go/packages"
)

// The rules, as they appear in Violation.Rule.
const (
	RuleAPIImportsData   = "api-imports-data"
	RuleServiceImportsIO = "service-imports-http-or-ent"
	RuleSchemaImports    = "schema-imports-internals"
	RuleDTOExposesEnt    = "dto-exposes-ent"
	RuleCrossModule      = "cross-module-import"
	RuleForeignEntity    = "foreign-entity"
	RulePlatformImports  = "platform-imports-module"
	RulePlatformNames    = "platform-names-module"
	RuleUnownedEntity    = "entity-without-owner"
)

// PlatformOwner is the owner name of entities that belong to the platform
// rather than to a module (the throttles table of platform/throttle):
// platform packages may use them, modules may not.
const PlatformOwner = "platform"

// Violation is one broken rule, with what to do instead.
type Violation struct {
	Rule    string
	Package string // import path, or the schema file for entity rules
	Message string
}

func (v Violation) String() string { return v.Package + ": " + v.Message + " [" + v.Rule + "]" }

var (
	httpPrefixes = []string{"github.com/danielgtaylor/huma", "github.com/gofiber/fiber", "net/http"}
	entSuffixes  = []string{"Query", "Create", "CreateBulk", "Update", "UpdateOne", "Delete", "DeleteOne", "Mutation", "Client", "Select", "GroupBy", "Upsert", "UpsertOne", "UpsertBulk", "Edges", "Slice", "Filter"}
)

// Owners reads root/ent/schema and returns each entity's owning module, from
// its ownership.Module("...") annotation. Entities without one are reported.
func Owners(root string) (map[string]string, []Violation, error) {
	dir := filepath.Join(root, "ent", "schema")
	fset := token.NewFileSet()
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	owners := map[string]string{}
	var vs []Violation
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, 0)
		if err != nil {
			return nil, nil, err
		}
		entities := map[string]bool{}
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.TYPE {
				for _, s := range g.Specs {
					ts := s.(*ast.TypeSpec)
					if st, ok := ts.Type.(*ast.StructType); ok && embedsEntSchema(st) {
						entities[ts.Name.Name] = true
					}
				}
			}
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Name.Name != "Annotations" || fd.Recv == nil || len(fd.Recv.List) != 1 {
				continue
			}
			recv := typeName(fd.Recv.List[0].Type)
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok || len(call.Args) != 1 {
					return true
				}
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "Module" && isIdent(sel.X, "ownership") {
					if lit, ok := call.Args[0].(*ast.BasicLit); ok {
						owners[recv], _ = strconv.Unquote(lit.Value)
					}
				}
				return true
			})
		}
		for name := range entities {
			if owners[name] == "" {
				vs = append(vs, Violation{RuleUnownedEntity, "ent/schema/" + e.Name(),
					fmt.Sprintf("entity %s has no owner: add `func (%s) Annotations() []schema.Annotation { return []schema.Annotation{ownership.Module(\"<module>\")} }` naming the module whose store queries it", name, name)})
			}
		}
	}
	return owners, vs, nil
}

func embedsEntSchema(st *ast.StructType) bool {
	for _, f := range st.Fields.List {
		if len(f.Names) == 0 {
			if sel, ok := f.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Schema" && isIdent(sel.X, "ent") {
				return true
			}
		}
	}
	return false
}

func typeName(e ast.Expr) string {
	if s, ok := e.(*ast.StarExpr); ok {
		e = s.X
	}
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

// Check loads every package of the repository at root and returns the
// violations, sorted.
func Check(root string) ([]Violation, error) {
	modPath, err := modulePath(root)
	if err != nil {
		return nil, err
	}
	owners, vs, err := Owners(root)
	if err != nil {
		return nil, fmt.Errorf("read entity owners: %w", err)
	}
	cfg := &packages.Config{
		Mode: packages.NeedName | packages.NeedImports | packages.NeedTypes | packages.NeedTypesInfo | packages.NeedSyntax,
		Dir:  root,
	}
	pkgs, err := packages.Load(cfg, "./modules/...", "./platform/...")
	if err != nil {
		return nil, err
	}
	var loadErrs []error
	for _, p := range pkgs {
		for _, e := range p.Errors {
			loadErrs = append(loadErrs, fmt.Errorf("%s: %s", p.PkgPath, e.Msg))
		}
	}
	if len(loadErrs) > 0 {
		return nil, errors.Join(loadErrs...)
	}
	names, err := moduleNames(root)
	if err != nil {
		return nil, err
	}
	c := checker{mod: modPath, owners: owners, modules: names}
	for _, p := range pkgs {
		vs = append(vs, c.check(p)...)
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].String() < vs[j].String() })
	return vs, nil
}

type checker struct {
	mod     string
	owners  map[string]string // entity type name -> module
	modules []string          // the directories of modules/
}

// moduleNames lists the modules of the tree (the directories of modules/).
func moduleNames(root string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(root, "modules"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// namesModule says which module a string literal of platform code names:
// the module's name itself or one of its routes (/api/<module>...).
func (c checker) namesModule(lit string) string {
	for _, m := range c.modules {
		if lit == m || lit == "/api/"+m || strings.HasPrefix(lit, "/api/"+m+"/") {
			return m
		}
	}
	return ""
}

// where tells the module and layer of a package path ("", "" outside modules/).
func (c checker) where(path string) (module, layer string) {
	rel, ok := strings.CutPrefix(path, c.mod+"/modules/")
	if !ok {
		return "", ""
	}
	parts := strings.Split(rel, "/")
	if len(parts) == 1 {
		return parts[0], "module"
	}
	last := parts[1]
	for _, l := range []string{"api", "svc", "store", "schema"} {
		if strings.HasSuffix(last, l) {
			return parts[0], l
		}
	}
	return parts[0], "other"
}

func (c checker) isEnt(path string) bool {
	return path == c.mod+"/ent" || strings.HasPrefix(path, c.mod+"/ent/")
}

func hasPrefix(path string, prefixes []string) bool {
	for _, p := range prefixes {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

func (c checker) check(p *packages.Package) []Violation {
	var vs []Violation
	add := func(rule, format string, args ...any) {
		vs = append(vs, Violation{rule, p.PkgPath, fmt.Sprintf(format, args...)})
	}
	if strings.HasPrefix(p.PkgPath, c.mod+"/platform/") {
		for imp := range p.Imports {
			if strings.HasPrefix(imp, c.mod+"/modules/") || strings.HasPrefix(imp, c.mod+"/cmd/") {
				add(RulePlatformImports, "imports %s: the platform never depends on a module or on cmd/; declare an interface in the platform (like authn.Accounts) and let the module provide it through fx (test helpers that start the application or sign users in belong in cmd/app/apptest)", imp)
			}
		}
		for _, f := range p.Syntax {
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				v, err := strconv.Unquote(lit.Value)
				if m := c.namesModule(v); err == nil && m != "" {
					add(RulePlatformNames, "%s: names module %s (%q): the platform is blind to features; let the module contribute what the platform needs through fx (as the auth module provides httpserver.OAuth)",
						p.Fset.Position(lit.Pos()), m, v)
				}
				return true
			})
		}
		// The platform may use the entities it owns, and no module's.
		return append(vs, c.entityUse(p, PlatformOwner)...)
	}
	mod, layer := c.where(p.PkgPath)
	if mod == "" {
		return nil
	}
	for imp := range p.Imports {
		if om, _ := c.where(imp); om != "" && om != mod {
			add(RuleCrossModule, "imports %s of module %s: modules never import each other; declare the small interface you need in your own module and have fx provide it from the other module (fx.Provide(func(x other.Type) yours.Interface { return x }) in the other module, or a shared contract in platform/)", imp, om)
		}
		_, implayer := c.where(imp)
		switch layer {
		case "api":
			if c.isEnt(imp) || implayer == "store" {
				add(RuleAPIImportsData, "imports %s: the api layer handles routing, status and validation only; call the service (%ssvc) and let its store do the queries", imp, strings.TrimSuffix(lastElem(p.PkgPath), "api"))
			}
		case "svc":
			if c.isEnt(imp) || hasPrefix(imp, httpPrefixes) || implayer == "store" {
				add(RuleServiceImportsIO, "imports %s: the service holds business rules only; declare a Storer interface for data (the store implements it with ent) and leave HTTP to the api layer; return fault errors, which platform/problem maps to statuses", imp)
			}
		case "schema":
			if c.isEnt(imp) || implayer == "svc" || implayer == "store" {
				add(RuleSchemaImports, "imports %s: DTOs are plain wire shapes; declare the fields you send and convert in the api layer (toDTO)", imp)
			}
		}
	}
	if layer == "schema" {
		vs = append(vs, c.dtoExposure(p)...)
	}
	vs = append(vs, c.entityUse(p, mod)...)
	return vs
}

func lastElem(path string) string { return path[strings.LastIndex(path, "/")+1:] }

// entityUse reports every use of an ent entity (its type, its client, its
// query/mutation builders or its predicate package) owned by another module.
func (c checker) entityUse(p *packages.Package, mod string) []Violation {
	seen := map[string]bool{}
	var vs []Violation
	for id, obj := range p.TypesInfo.Uses {
		if obj == nil || obj.Pkg() == nil || !c.isEnt(obj.Pkg().Path()) {
			continue
		}
		entity := c.entityOf(obj)
		if entity == "" {
			continue
		}
		owner := c.owners[entity]
		if owner == mod || seen[entity] {
			continue
		}
		seen[entity] = true
		pos := p.Fset.Position(id.Pos())
		msg := fmt.Sprintf("%s:%d uses ent entity %s, which is owned by module %q: only the owning module queries its tables; call that module through an interface you declare (satisfied through fx), or move the data here", filepath.Base(pos.Filename), pos.Line, entity, owner)
		if owner == "" {
			msg = fmt.Sprintf("%s:%d uses ent entity %s, which has no ownership.Module annotation: annotate its schema with the owning module", filepath.Base(pos.Filename), pos.Line, entity)
		}
		vs = append(vs, Violation{RuleForeignEntity, p.PkgPath, msg})
	}
	return vs
}

// entityOf maps an object of the generated ent packages to its entity:
// ent/<entity> packages, and in ent itself the entity type, its builders
// (UserQuery, UserCreate...) and the Client field of the same name.
func (c checker) entityOf(obj types.Object) string {
	pkg := obj.Pkg().Path()
	if pkg != c.mod+"/ent" {
		sub := strings.TrimPrefix(pkg, c.mod+"/ent/")
		for e := range c.owners {
			if strings.ToLower(e) == sub {
				return e
			}
		}
		return ""
	}
	name := obj.Name()
	if _, ok := c.owners[name]; ok {
		return name
	}
	for _, s := range entSuffixes {
		if base, ok := strings.CutSuffix(name, s); ok {
			if _, ok := c.owners[base]; ok {
				return base
			}
		}
	}
	return ""
}

// dtoExposure walks the exported types of a DTO package and reports any
// field whose type comes from ent.
func (c checker) dtoExposure(p *packages.Package) []Violation {
	var vs []Violation
	scope := p.Types.Scope()
	for _, name := range scope.Names() {
		obj, ok := scope.Lookup(name).(*types.TypeName)
		if !ok || !obj.Exported() {
			continue
		}
		if path := c.entPath(obj.Type().Underlying(), map[types.Type]bool{}); path != "" {
			vs = append(vs, Violation{RuleDTOExposesEnt, p.PkgPath, fmt.Sprintf("%s exposes the ent type %s: a DTO declares its own fields (never the password hash or other internals); convert from the service type in the api layer", name, path)})
		}
	}
	return vs
}

func (c checker) entPath(t types.Type, seen map[types.Type]bool) string {
	if seen[t] {
		return ""
	}
	seen[t] = true
	switch t := t.(type) {
	case *types.Named:
		if t.Obj().Pkg() != nil && c.isEnt(t.Obj().Pkg().Path()) {
			return t.Obj().Pkg().Name() + "." + t.Obj().Name()
		}
		return c.entPath(t.Underlying(), seen)
	case *types.Pointer:
		return c.entPath(t.Elem(), seen)
	case *types.Slice:
		return c.entPath(t.Elem(), seen)
	case *types.Array:
		return c.entPath(t.Elem(), seen)
	case *types.Map:
		if p := c.entPath(t.Key(), seen); p != "" {
			return p
		}
		return c.entPath(t.Elem(), seen)
	case *types.Struct:
		for i := range t.NumFields() {
			if p := c.entPath(t.Field(i).Type(), seen); p != "" {
				return p
			}
		}
	}
	return ""
}

func modulePath(root string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "go.mod")) // #nosec G304 -- the repository's own go.mod
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "module "); ok {
			return strings.TrimSpace(rest), nil
		}
	}
	return "", errors.New("go.mod has no module line")
}
