package devcmd

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/problem"
	"github.com/acme/monolith/platform/testkit"
)

// The committed contract: what `make openapi` writes.
const (
	openapiFile = "../../../docs/openapi.json"
	errorsFile  = "../../../docs/errors.md"
)

// generated runs an `app` command that prints a document.
func generated(t *testing.T, args ...string) string {
	t.Helper()
	out, err := run(t, baseEnv(t, testkit.NewDatabaseURL(t, dialect.SQLite)), "", args...)
	if err != nil {
		t.Fatalf("app %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// operationIDs lists "METHOD path id [tags]" for every operation.
func operationIDs(t *testing.T, doc string) map[string]string {
	t.Helper()
	var d struct {
		Paths map[string]map[string]struct {
			OperationID string   `json:"operationId"`
			Tags        []string `json:"tags"`
		} `json:"paths"`
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		t.Fatalf("parse document: %v", err)
	}
	out := map[string]string{}
	for path, ops := range d.Paths {
		for method, op := range ops {
			out[strings.ToUpper(method)+" "+path] = fmt.Sprintf("%s %v", op.OperationID, op.Tags)
		}
	}
	return out
}

// TestOpenAPISnapshot keeps docs/openapi.json equal to the document the
// code serves. Operation ids and tags are what generated clients name
// their methods and files after: a change to one is reported by name, so
// that it is made on purpose (`make openapi`, then commit the diff).
func TestOpenAPISnapshot(t *testing.T) {
	got := generated(t, "openapi")
	want, err := os.ReadFile(openapiFile)
	if err != nil {
		t.Fatalf("%v: run `make openapi` and commit docs/openapi.json", err)
	}
	if got == string(want) {
		return
	}
	g, w := operationIDs(t, got), operationIDs(t, string(want))
	var changes []string
	for _, k := range sortedKeys(w) {
		switch gv, ok := g[k]; {
		case !ok:
			changes = append(changes, fmt.Sprintf("removed: %s (%s)", k, w[k]))
		case gv != w[k]:
			changes = append(changes, fmt.Sprintf("changed: %s: %s -> %s", k, w[k], gv))
		}
	}
	for _, k := range sortedKeys(g) {
		if _, ok := w[k]; !ok {
			changes = append(changes, fmt.Sprintf("added: %s (%s)", k, g[k]))
		}
	}
	if len(changes) > 0 {
		t.Errorf("operation ids or tags differ from docs/openapi.json (generated clients rename their methods):\n  %s",
			strings.Join(changes, "\n  "))
	}
	gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var a, b string
		if i < len(gl) {
			a = gl[i]
		}
		if i < len(wl) {
			b = wl[i]
		}
		if a != b {
			t.Errorf("the document differs from docs/openapi.json from line %d:\n  committed: %s\n  generated: %s", i+1, b, a)
			break
		}
	}
	t.Error("if the change is intended, run `make openapi` and commit docs/openapi.json and docs/errors.md")
}

// TestErrorCatalogueIsCurrent keeps docs/errors.md equal to the catalogue.
func TestErrorCatalogueIsCurrent(t *testing.T) {
	got := generated(t, "errors")
	want, err := os.ReadFile(errorsFile)
	if err != nil || got != string(want) {
		t.Fatalf("docs/errors.md is stale (or missing: %v): run `make openapi` and commit it", err)
	}
}

// TestCatalogueIsComplete: every domain error a linked package declared
// is in the catalogue with its status by the one table, and no code has
// two statuses. (That every code the server actually answers with is in
// it is checked on every response of every API test, by testkit.)
func TestCatalogueIsComplete(t *testing.T) {
	entries := problem.Catalogue()
	status := map[string]int{}
	for _, e := range entries {
		key := fmt.Sprint(e.Code, e.Field)
		if prev, ok := status[key]; ok && prev != e.Status {
			t.Errorf("code %s has statuses %d and %d", e.Code, prev, e.Status)
		}
		status[key] = e.Status
		if !regexp.MustCompile(`^[a-z][a-z0-9_]*$`).MatchString(e.Code) || e.Meaning == "" {
			t.Errorf("entry %+v: codes are snake_case and say what they mean", e)
		}
	}
	declared := fault.Declared()
	if len(declared) < 20 {
		t.Fatalf("only %d domain errors declared: are the modules linked?", len(declared))
	}
	for _, fe := range declared {
		if fe.Kind == fault.Internal {
			continue
		}
		field := fe.Kind == fault.Invalid
		want := problem.Status(&fe)
		if field {
			want = 422
		}
		if got, ok := status[fmt.Sprint(fe.Code, field)]; !ok || got != want {
			t.Errorf("domain error %s (status %d) is not in the catalogue as such (got %d, %v)", fe.Code, want, got, ok)
		}
	}
}

// schemaWalk visits every schema object of the document.
func schemaWalk(v any, path string, visit func(path string, s map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["type"]; ok {
			visit(path, x)
		} else if _, ok := x["properties"]; ok {
			visit(path, x)
		}
		for k, c := range x {
			schemaWalk(c, path+"/"+k, visit)
		}
	case []any:
		for i, c := range x {
			schemaWalk(c, fmt.Sprintf("%s/%d", path, i), visit)
		}
	}
}

// TestOpenAPIContract holds the rules a client developer relies on, for
// every operation and schema, a module's new ones included.
func TestOpenAPIContract(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal([]byte(generated(t, "openapi")), &doc); err != nil {
		t.Fatal(err)
	}
	m := func(v any) map[string]any { r, _ := v.(map[string]any); return r }
	// Every scope an operation requires is a permission the password flow
	// lists with its description.
	scopes := m(m(m(m(m(m(doc["components"])["securitySchemes"])["oauth2"])["flows"])["password"])["scopes"])
	if len(scopes) == 0 {
		t.Error("the oauth2 password flow lists no scopes (the declared permissions)")
	}
	ids := map[string]bool{}
	for path, item := range m(doc["paths"]) {
		for method, o := range m(item) {
			op := m(o)
			name := strings.ToUpper(method) + " " + path
			id, _ := op["operationId"].(string)
			if !regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`).MatchString(id) || ids[id] {
				t.Errorf("%s: operation id %q must be unique kebab-case", name, id)
			}
			ids[id] = true
			if tags, _ := op["tags"].([]any); len(tags) == 0 {
				t.Errorf("%s: no tag", name)
			}
			if _, ok := op["security"]; !ok {
				t.Errorf("%s: declares no security: protect it (authn.Resolver.Protect or Require) or mark it public (authn.Public)", name)
			}
			security, _ := op["security"].([]any)
			for _, req := range security {
				required, _ := m(req)["oauth2"].([]any)
				for _, p := range required {
					if d, _ := scopes[p.(string)].(string); d == "" {
						t.Errorf("%s: requires %v, which the oauth2 flow does not list with a description", name, p)
					}
					if desc, _ := op["description"].(string); !strings.Contains(desc, "`"+p.(string)+"`") {
						t.Errorf("%s: its description does not name the permission %v it requires", name, p)
					}
				}
			}
			params, _ := op["parameters"].([]any)
			for _, p := range params {
				p := m(p)
				if p["in"] == "header" && strings.EqualFold(p["name"].(string), "User-Agent") {
					t.Errorf("%s: User-Agent is read by the server for its own bookkeeping, not a parameter", name)
				}
				if p["in"] == "path" && strings.HasSuffix(strings.ToLower(p["name"].(string)), "id") && m(p["schema"])["format"] != "uuid" {
					t.Errorf("%s: path parameter %s has no format uuid", name, p["name"])
				}
			}
			for status, r := range m(op["responses"]) {
				r := m(r)
				if (status == "429" || status == "503") && m(r["headers"])["Retry-After"] == nil {
					t.Errorf("%s: %s without a Retry-After header", name, status)
				}
				if status[0] == '4' || status[0] == '5' || status == "default" {
					for ct, mt := range m(r["content"]) {
						if mt := m(mt); mt["example"] == nil && len(m(mt["examples"])) == 0 {
							t.Errorf("%s: %s %s has no example", name, status, ct)
						}
					}
				}
			}
		}
	}
	for name, s := range m(m(doc["components"])["schemas"]) {
		if ex, _ := m(s)["examples"].([]any); len(ex) == 0 {
			t.Errorf("schema %s has no example: give its fields example tags", name)
		}
	}
	schemaWalk(doc, "#", func(path string, s map[string]any) {
		if types, ok := s["type"].([]any); ok && slices.Contains(types, "array") && slices.Contains(types, "null") {
			t.Errorf("%s: a nullable array; return an empty slice and tag the field nullable:\"false\"", path)
		}
		required := map[string]bool{}
		if req, ok := s["required"].([]any); ok {
			for _, r := range req {
				required[r.(string)] = true
			}
		}
		for prop, p := range m(s["properties"]) {
			if m(p)["writeOnly"] == true && required[prop] {
				t.Errorf("%s: required property %s is writeOnly (generated clients make it an optional pointer)", path, prop)
			}
		}
	})
	// The catalogue travels with the document.
	codes := m(m(m(doc["components"])["schemas"])["Problem"])["x-error-codes"]
	if list, _ := codes.([]any); len(list) == 0 {
		t.Error("the Problem schema carries no x-error-codes")
	}
	if servers, _ := doc["servers"].([]any); len(m(m(doc["info"])["license"])) == 0 || len(servers) == 0 {
		t.Error("the document needs a license and a server")
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
