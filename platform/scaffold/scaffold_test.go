package scaffold

import (
	"context"
	"errors"
	"go/format"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"entgo.io/ent/entc/gen"
)

func TestDeriveRejectsBadNames(t *testing.T) {
	for name, want := range map[string]string{
		"":          "lower-case letters",
		"Notes":     "lower-case letters",
		"my_notes":  "lower-case letters",
		"my-notes":  "lower-case letters",
		"9lives":    "lower-case letters",
		"n":         "lower-case letters",
		"platform":  "reserved",
		"internal":  "reserved",
		"ent":       "reserved",
		"main":      "reserved",
		"app":       "reserved",
		"test":      "reserved",
		"funcs":     "Go keyword",
		"strings":   "Go keyword or predeclared",
		"interface": "Go keyword",
		"db":        "the generated code declares or imports",
		"testkit":   "the generated code declares or imports",
	} {
		if _, err := Derive(name, "", "example.com/m", realIdents(t)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Derive(%q) = %v, want an error containing %q", name, err, want)
		}
	}
}

func TestDeriveNames(t *testing.T) {
	for name, want := range map[string]Names{
		"notes":     {Module: "notes", Singular: "note", Entity: "Note", EntPkg: "note", Plural: "notes", Title: "Note", EnvPrefix: "NOTES", Path: "example.com/m"},
		"inventory": {Module: "inventory", Singular: "inventory", Entity: "Inventory", EntPkg: "inventory", Plural: "inventory", Title: "Inventory", EnvPrefix: "INVENTORY", Path: "example.com/m"},
		"addresss":  {Module: "addresss", Singular: "addresss", Entity: "Addresss", EntPkg: "addresss", Plural: "addresss", Title: "Addresss", EnvPrefix: "ADDRESSS", Path: "example.com/m"},
	} {
		got, err := Derive(name, "", "example.com/m", realIdents(t))
		if err != nil || got != want {
			t.Errorf("Derive(%q) = %+v, %v; want %+v", name, got, err, want)
		}
	}
}

// TestDeriveEntityAsksEnt: the entity name is checked by ent's own rule.
// orders keeps Order (ent accepts it); a singular ent refuses gets the
// Record suffix and says so; --entity names it, and ent refuses what it
// must.
func TestDeriveEntityAsksEnt(t *testing.T) {
	for _, c := range []struct {
		name, entity          string
		wantEntity, wantPkg   string
		wantRenamed, wantFail string
	}{
		{name: "orders", wantEntity: "Order", wantPkg: "order"},
		{name: "orders", entity: "PurchaseOrder", wantEntity: "PurchaseOrder", wantPkg: "purchaseorder"},
		{name: "clients", wantEntity: "ClientRecord", wantPkg: "clientrecord", wantRenamed: `ent's generated package declares "Client"`},
		{name: "values", wantEntity: "ValueRecord", wantPkg: "valuerecord", wantRenamed: `"Value"`},
		{name: "mutations", wantEntity: "MutationRecord", wantPkg: "mutationrecord", wantRenamed: `"Mutation"`},
		{name: "orders", entity: "Client", wantFail: `declares "Client"`},
		{name: "orders", entity: "Mutation", wantFail: `declares "Mutation"`},
		{name: "orders", entity: "Migrate", wantFail: `declares "migrate"`},
		{name: "orders", entity: "Select", wantFail: "Go keyword"},
		{name: "orders", entity: "purchaseOrder", wantFail: "upper-case letter"},
		{name: "orders", entity: "Purchase_Order", wantFail: "letters and digits"},
	} {
		n, err := Derive(c.name, c.entity, "example.com/m", realIdents(t))
		if c.wantFail != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantFail) {
				t.Errorf("Derive(%q, %q) = %+v, %v; want an error containing %q", c.name, c.entity, n, err, c.wantFail)
			}
			continue
		}
		if err != nil || n.Entity != c.wantEntity || n.EntPkg != c.wantPkg || n.Singular != strings.TrimSuffix(c.name, "s") ||
			(c.wantRenamed == "") != (n.Renamed == "") || !strings.Contains(n.Renamed, c.wantRenamed) {
			t.Errorf("Derive(%q, %q) = %+v, %v", c.name, c.entity, n, err)
		}
	}
}

// realIdents reads the repository's generated ent package.
func realIdents(t *testing.T) map[string]bool {
	t.Helper()
	root, err := os.OpenRoot(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = root.Close() }()
	ids, err := EntIdents(root)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestEntityNamesAgreeWithEnt holds our entity check to ent's own
// (entc/gen.ValidSchemaName, linked here but not into the binary): every
// name ent refuses is refused, over every identifier of the generated
// package and ent's list of predeclared names; Order and other plain
// names are accepted by both.
func TestEntityNamesAgreeWithEnt(t *testing.T) {
	ids := realIdents(t)
	candidates := strings.Fields(`AggregateFunc As Asc Client Config Count Debug Desc Driver Hook Interceptor Log
		MutateFunc Mutation Mutator Op Option OrderFunc Max Mean Min Schema Sum Policy Query Value Tx Func Select`)
	for id := range ids {
		candidates = append(candidates, id, strings.ToUpper(id[:1])+id[1:])
	}
	for _, c := range candidates {
		if !validEntity.MatchString(c) {
			continue
		}
		if gen.ValidSchemaName(c) != nil && entityName(c, ids) == nil {
			t.Errorf("ent refuses the schema name %q (%v) but the generator accepts it", c, gen.ValidSchemaName(c))
		}
	}
	for _, ok := range []string{"Order", "PurchaseOrder", "Note", "Invoice", "Ticket"} {
		if err := gen.ValidSchemaName(ok); err != nil {
			t.Fatalf("control: ent refuses %q: %v", ok, err)
		}
		if err := entityName(ok, ids); err != nil {
			t.Errorf("%q: ent accepts it, the generator refuses: %v", ok, err)
		}
	}
}

const listSrc = `// Package modules is the list.
package modules

import "go.uber.org/fx"

import "example.com/m/modules/users"

// All is every module.
var All = []fx.Option{
	users.Module,
}

// Accounts sign users in.
var Accounts = []fx.Option{
	users.Module,
}
`

func TestRegister(t *testing.T) {
	n, _ := Derive("notes", "", "example.com/m", realIdents(t))
	out, err := Register([]byte(listSrc), n)
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	for _, want := range []string{
		"import \"example.com/m/modules/users\"\nimport \"example.com/m/modules/notes\"\n",
		"var All = []fx.Option{\n\tusers.Module,\n\tnotes.Module,\n}",
		"var Accounts = []fx.Option{\n\tusers.Module,\n}",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("registered list lacks %q:\n%s", want, got)
		}
	}
	if formatted, err := format.Source(out); err != nil || string(formatted) != got {
		t.Errorf("registered list is not gofmt-clean (%v):\n%s", err, got)
	}
	// Control: registering twice is refused.
	if _, err := Register(out, n); !errors.Is(err, ErrExists) {
		t.Fatalf("second Register: %v", err)
	}
}

// fakeRoot is the smallest tree Generate works in.
func fakeRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	write(t, root, "go.mod", "module example.com/m\n\ngo 1.26\n")
	write(t, root, ListFile, listSrc)
	write(t, root, "ent/client.go", "package ent\n")
	write(t, root, "ent/schema/user.go", "package schema\n")
	write(t, root, "migrations/sqlite/atlas.sum", "h1:old\n")
	return root
}

func write(t *testing.T, root, rel, content string) {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// tree lists every file with its content.
func tree(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			out[rel+"/"] = ""
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t *testing.T, before, after map[string]string) {
	t.Helper()
	for k, v := range before {
		if a, ok := after[k]; !ok || a != v {
			t.Errorf("%s changed or vanished", k)
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok {
			t.Errorf("%s left behind", k)
		}
	}
}

// TestGenerateRollsBack forces a failure at the last step, after the
// templates, the list and (simulated) ent generation have written and
// changed files: the tree must be exactly as before.
func TestGenerateRollsBack(t *testing.T) {
	root := fakeRoot(t)
	before := tree(t, root)
	calls := 0
	run := func(_ context.Context, dir string, _ []string, name string, args ...string) error {
		calls++
		switch strings.Join(args, " ") {
		case "generate ./ent":
			write(t, dir, "ent/note/note.go", "package note\n")
			write(t, dir, "ent/client.go", "package ent // regenerated\n")
			return nil
		default:
			write(t, dir, "migrations/sqlite/20260101000000_add_notes.sql", "CREATE TABLE notes ();\n")
			write(t, dir, "migrations/sqlite/atlas.sum", "h1:new\n")
			return errors.New("Postgres unreachable")
		}
	}
	err := Generate(context.Background(), "notes", Options{Root: root, Run: run})
	if err == nil || !strings.Contains(err.Error(), "Postgres unreachable") || !strings.Contains(err.Error(), "nothing was changed") {
		t.Fatalf("Generate = %v", err)
	}
	if calls != 2 {
		t.Fatalf("runner called %d times, want 2 (the failure must come last)", calls)
	}
	sameTree(t, before, tree(t, root))

	// Control: with a runner that succeeds, the files stay.
	ok := func(context.Context, string, []string, string, ...string) error { return nil }
	if err := Generate(context.Background(), "notes", Options{Root: root, Run: ok}); err != nil {
		t.Fatal(err)
	}
	after := tree(t, root)
	for _, p := range []string{"modules/notes/notes.go", "modules/notes/noteapi/routes.go", "modules/notes/noteapi/api_test.go", "modules/notes/notesvc/service.go", "modules/notes/notestore/store.go", "modules/notes/noteschema/schema.go", "ent/schema/note.go"} {
		if _, ok := after[p]; !ok {
			t.Errorf("%s was not written", p)
		}
	}
	if !strings.Contains(after[ListFile], "notes.Module,") {
		t.Errorf("module not registered:\n%s", after[ListFile])
	}
	if !strings.Contains(after["ent/schema/note.go"], `ownership.Module("notes")`) {
		t.Error("the schema does not name its owner")
	}

	// Running it twice refuses, and changes nothing.
	before = after
	err = Generate(context.Background(), "notes", Options{Root: root, Run: ok})
	if !errors.Is(err, ErrExists) {
		t.Fatalf("second Generate = %v, want ErrExists", err)
	}
	sameTree(t, before, tree(t, root))
}

func TestGenerateRejectsReservedBeforeWriting(t *testing.T) {
	root := fakeRoot(t)
	before := tree(t, root)
	fail := func(context.Context, string, []string, string, ...string) error {
		t.Fatal("the toolchain ran for an invalid name")
		return nil
	}
	if err := Generate(context.Background(), "platform", Options{Root: root, Run: fail}); err == nil || !strings.Contains(err.Error(), "reserved") {
		t.Fatalf("Generate(platform) = %v", err)
	}
	sameTree(t, before, tree(t, root))
}

// TestGenerateRefusesModulesOfTheTree: the modules that exist are read
// from the tree, not from a list in the generator: users (whose entity
// is in ent/schema) and any module directory are refused, and nothing is
// written.
func TestGenerateRefusesModulesOfTheTree(t *testing.T) {
	root := fakeRoot(t)
	write(t, root, "modules/invoices/invoices.go", "package invoices\n")
	before := tree(t, root)
	fail := func(context.Context, string, []string, string, ...string) error {
		t.Fatal("the toolchain ran for an existing module")
		return nil
	}
	for _, name := range []string{"users", "invoices"} {
		if err := Generate(context.Background(), name, Options{Root: root, Run: fail}); !errors.Is(err, ErrExists) {
			t.Errorf("Generate(%s) = %v, want ErrExists", name, err)
		}
	}
	sameTree(t, before, tree(t, root))
}

// TestNamesDoNotShadowImports renders the module for every name the
// generated code declares or imports, as a module name and as the
// plural of one (items makes the ent package item, which a test type named
// item would hide), and fails when a file declares the name of a package
// it imports, or imports two packages of one name: the module would not
// compile. Derive refuses the names that cannot work.
func TestNamesDoNotShadowImports(t *testing.T) {
	idents := realIdents(t)
	probes, err := generatedNames()
	if err != nil {
		t.Fatal(err)
	}
	if !probes["item"] || !probes["db"] || !probes["paging"] {
		t.Fatalf("control: the generated code no longer uses item, db and paging; pick other probes: %v", probes)
	}
	tried := 0
	for name := range probes {
		if !validName.MatchString(name) {
			continue
		}
		for _, module := range []string{name, name + "s"} {
			n, err := Derive(module, "", "example.com/m", idents)
			if err != nil {
				continue // refused: reserved, a keyword, taken by ent
			}
			tried++
			files, err := parseRendered(n)
			if err != nil {
				t.Fatal(err)
			}
			for p, f := range files {
				imports := map[string]bool{}
				for _, s := range f.Imports {
					if imports[importName(s)] {
						t.Errorf("module %s: %s imports two packages named %s", module, p, importName(s))
					}
					imports[importName(s)] = true
				}
				for d := range declaredNames(f) {
					if imports[d] {
						t.Errorf("module %s: %s declares %s, the name of a package it imports", module, p, d)
					}
				}
			}
		}
	}
	if tried < 10 {
		t.Fatalf("only %d names tried", tried)
	}
}
