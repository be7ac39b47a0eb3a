package httpserver

import (
	"path"
	"reflect"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// schemaName names OpenAPI schemas. huma's default is the bare Go type name,
// and two modules that both have a DTO called Create would collide (huma
// panics at start). A type from a module's DTO package `<x>schema` is
// prefixed with X unless its name already starts with it: userschema.User
// stays User, userschema.Create becomes UserCreate, noteschema.Create
// NoteCreate.
func schemaName(t reflect.Type, hint string) string {
	name := huma.DefaultSchemaNamer(t, hint)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	prefix, ok := strings.CutSuffix(path.Base(t.PkgPath()), "schema")
	if !ok || prefix == "" || t.Name() == "" {
		return name
	}
	prefix = strings.ToUpper(prefix[:1]) + prefix[1:]
	if strings.HasPrefix(name, prefix) {
		return name
	}
	return prefix + name
}
