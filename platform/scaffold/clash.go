package scaffold

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"strings"
	"sync"
)

// sample renders the templates for the names that are checked against
// them. Its module name has an underscore, which no module can have, so
// the platform names no module; what the sample's own names produce
// (sample_thingsvc, SampleThing, ...) varies with the module and is left out.
var sample = Names{Module: "sample_things", Singular: "sample_thing", Entity: "SampleThing", EntPkg: "samplething", Plural: "sample_things", Title: "Sample thing", EnvPrefix: "SAMPLE_THINGS", Path: "example.com/m"}

// generatedNames are the identifiers the generated code declares and the
// packages it imports, whatever the module. The module's tests import its
// package by its name, so a module named like one of these (db, testkit)
// would not compile.
var generatedNames = sync.OnceValues(func() (map[string]bool, error) {
	files, err := parseRendered(sample)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, f := range files {
		for _, set := range []map[string]bool{declaredNames(f), importedNames(f)} {
			for name := range set {
				if !strings.Contains(strings.ToLower(name), "sample") {
					out[name] = true
				}
			}
		}
	}
	return out, nil
})

// parseRendered renders the module for n and parses its Go files.
func parseRendered(n Names) (map[string]*ast.File, error) {
	rendered, err := Render(n)
	if err != nil {
		return nil, err
	}
	out := map[string]*ast.File{}
	for p, src := range rendered {
		if !strings.HasSuffix(p, ".go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, src, 0)
		if err != nil {
			return nil, fmt.Errorf("parse generated %s: %w", p, err)
		}
		out[p] = f
	}
	return out, nil
}

// declaredNames are the names a file declares: types, values, functions,
// parameters and results, and short variable declarations.
func declaredNames(f *ast.File) map[string]bool {
	out := map[string]bool{}
	add := func(ids ...*ast.Ident) {
		for _, id := range ids {
			if id != nil && id.Name != "_" {
				out[id.Name] = true
			}
		}
	}
	addExprs := func(es ...ast.Expr) {
		for _, e := range es {
			if id, ok := e.(*ast.Ident); ok {
				add(id)
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.TypeSpec:
			add(n.Name)
		case *ast.ValueSpec:
			add(n.Names...)
		case *ast.FuncDecl:
			if n.Recv == nil {
				add(n.Name)
			}
		case *ast.Field:
			add(n.Names...)
		case *ast.AssignStmt:
			if n.Tok == token.DEFINE {
				addExprs(n.Lhs...)
			}
		case *ast.RangeStmt:
			if n.Tok == token.DEFINE {
				addExprs(n.Key, n.Value)
			}
		}
		return true
	})
	return out
}

// importedNames are the names a file's imports are known by.
func importedNames(f *ast.File) map[string]bool {
	out := map[string]bool{}
	for _, s := range f.Imports {
		out[importName(s)] = true
	}
	return out
}

func importName(s *ast.ImportSpec) string {
	if s.Name != nil {
		return s.Name.Name
	}
	p := strings.Trim(s.Path.Value, `"`)
	return p[strings.LastIndex(p, "/")+1:]
}
