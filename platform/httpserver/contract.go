package httpserver

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"sort"
	"strconv"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/authz"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/problem"
)

// APIVersion is the version of the contract (info.version): it changes
// with the document, not with each build (`app version` names the build).
const APIVersion = "1.0.0"

// describe completes the document's top level: where the API is served,
// under which license, and the version of the contract.
func describe(cfg *huma.Config) {
	cfg.Info.Version = APIVersion
	cfg.Info.License = &huma.License{Name: "MIT", Identifier: "MIT"}
	// Relative: the origin that serves the document, so the docs page
	// works behind any host name; a client generated from a copy of the
	// document sets its own base URL.
	cfg.Servers = []*huma.Server{{URL: "/", Description: "The server that serves this document"}}
	// A UUID is a string of format uuid wherever it appears (ids in
	// bodies and paths), so clients validate and type it.
	cfg.Components.Schemas.RegisterTypeAlias(reflect.TypeFor[uuid.UUID](), reflect.TypeFor[uuidText]())
}

// uuidText is how uuid.UUID is described.
type uuidText string

// Schema implements huma.SchemaProvider.
func (uuidText) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{Type: huma.TypeString, Format: "uuid", Examples: []any{exampleUUID}}
}

const exampleUUID = "0b9a2c1e-6f0d-4d55-9a3e-2f6b0c8d7e11"

// errorsKey is the operation metadata that WithErrors fills.
const errorsKey = "httpserver.errors"

// WithErrors declares the domain errors an operation answers with: each
// one's status joins the operation's responses, and the document shows
// it as an example of that response, so a client developer sees which
// codes a call can return:
//
//	huma.Register(api, httpserver.WithErrors(huma.Operation{...}, usersvc.ErrEmailTaken), h)
//
// An Invalid error appears as a field of the 422's example; give it its
// field with On ("usersvc.ErrIncorrectPassword.On(\"current_password\")").
func WithErrors(op huma.Operation, errs ...*fault.Error) huma.Operation {
	if op.Metadata == nil {
		op.Metadata = map[string]any{}
	}
	declared, _ := op.Metadata[errorsKey].([]*fault.Error)
	op.Metadata[errorsKey] = append(slices.Clone(declared), errs...)
	for _, e := range errs {
		if s := problem.Status(e); !slices.Contains(op.Errors, s) {
			op.Errors = append(op.Errors, s)
		}
	}
	return op
}

// finishDocument runs once every operation is registered. It adds the
// responses every operation can give (400 for a request the edge refuses,
// 503 with Retry-After, 413 and 415 for JSON bodies), a Retry-After header
// on every 429 and 503, an example on every problem response and schema,
// and the catalogue of error codes.
func finishDocument(oapi *huma.OpenAPI) {
	for _, path := range sortedKeys(oapi.Paths) {
		for _, op := range operations(oapi.Paths[path]) {
			finishOperation(oapi, op)
		}
	}
	reg := oapi.Components.Schemas
	if s := reg.Map()["Problem"]; s != nil {
		describeProblem(s, false)
	}
	if s := reg.Map()["ProblemFieldError"]; s != nil {
		describeProblem(s, true)
	}
	for _, name := range sortedKeys(reg.Map()) {
		s := reg.Map()[name]
		if len(s.Examples) == 0 {
			if ex := exampleOf(reg, s, 0); ex != nil {
				s.Examples = []any{ex}
			}
		}
	}
}

func operations(p *huma.PathItem) []*huma.Operation {
	var ops []*huma.Operation
	for _, op := range []*huma.Operation{p.Get, p.Put, p.Post, p.Delete, p.Options, p.Head, p.Patch, p.Trace} {
		if op != nil {
			ops = append(ops, op)
		}
	}
	return ops
}

func finishOperation(oapi *huma.OpenAPI, op *huma.Operation) {
	problemErrors := true
	for status, r := range op.Responses {
		if status[0] >= '4' || status == "default" {
			for ct := range r.Content {
				if ct != problem.ContentType {
					problemErrors = false
				}
			}
		}
	}
	// Operations that answer errors in their own shape (the OAuth2
	// endpoints' RFC 6749 bodies) describe their responses themselves.
	if problemErrors {
		schema := &huma.Schema{Ref: oapi.Components.Schemas.Schema(reflect.TypeFor[problem.Problem](), true, "").Ref}
		add := func(status int) {
			key := strconv.Itoa(status)
			if op.Responses[key] == nil {
				op.Responses[key] = &huma.Response{
					Description: http.StatusText(status),
					Content:     map[string]*huma.MediaType{problem.ContentType: {Schema: schema}},
				}
			}
		}
		add(http.StatusBadRequest)
		add(http.StatusServiceUnavailable)
		if op.RequestBody != nil && op.RequestBody.Content["application/json"] != nil {
			add(http.StatusRequestEntityTooLarge)
			add(http.StatusUnsupportedMediaType)
		}
	}
	declared, _ := op.Metadata[errorsKey].([]*fault.Error)
	for key, r := range op.Responses {
		if key == "429" || key == "503" {
			if r.Headers == nil {
				r.Headers = map[string]*huma.Param{}
			}
			if r.Headers["Retry-After"] == nil {
				r.Headers["Retry-After"] = &huma.Param{
					Description: "Seconds to wait before trying again (RFC 9110 §10.2.3).",
					Schema:      &huma.Schema{Type: huma.TypeInteger, Minimum: ptr(1.0), Examples: []any{5}},
					Required:    true,
				}
			}
		}
		mt := r.Content[problem.ContentType]
		if mt == nil || mt.Example != nil || len(mt.Examples) > 0 {
			continue
		}
		status := http.StatusInternalServerError
		if key != "default" {
			status, _ = strconv.Atoi(key)
		}
		mt.Examples = problemExamples(status, withAuthn(op, declared))
	}
}

// withAuthn adds the resolver's errors to a protected operation's: its
// 401s, and the 403 of an operation that requires permissions (naming
// the first).
func withAuthn(op *huma.Operation, declared []*fault.Error) []*fault.Error {
	if len(op.Security) == 0 {
		return declared
	}
	out := append(slices.Clone(declared), authn.ErrMissingToken, authn.ErrInvalidToken)
	if perms := authn.RequiredPermissions(op); len(perms) > 0 {
		out = append(out, authn.PermissionRequired(perms[0]))
	}
	return out
}

// checkPermissions fails when an operation requires a permission no
// module declared: found at start, not by the first caller's 403.
func checkPermissions(oapi *huma.OpenAPI, declared *authz.Catalogue) error {
	for _, path := range sortedKeys(oapi.Paths) {
		for _, op := range operations(oapi.Paths[path]) {
			for _, name := range authn.RequiredPermissions(op) {
				if !declared.Has(name) {
					return fmt.Errorf("operation %s (%s %s) requires the permission %q, which no module declares: declare it with authz.Provide",
						op.OperationID, op.Method, path, name)
				}
			}
		}
	}
	return nil
}

// problemExamples are the examples of one error response: the domain
// errors the operation declared for its status, else the codes any
// operation can answer with that status.
func problemExamples(status int, declared []*fault.Error) map[string]*huma.Example {
	out := map[string]*huma.Example{}
	if status == http.StatusUnprocessableEntity {
		p := problem.CodeValidationFailed.New()
		p.Errors = []problem.FieldError{{Location: "body.email", Message: "expected string to be RFC 5322 email: mail: missing '@' or angle-addr", Code: problem.FieldFormatEmail.Name}}
		for _, e := range declared {
			if e.Kind == fault.Invalid {
				p.Errors = append(p.Errors, problemOf(e).Errors...)
			}
		}
		out[p.Code] = example(p)
		return out
	}
	for _, e := range declared {
		if e.Kind != fault.Invalid && problem.Status(e) == status {
			out[e.Code] = example(problemOf(e))
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, p := range genericProblems(status) {
		out[p.Code] = example(p)
	}
	return out
}

// genericProblems are the codes any operation may answer with a status.
func genericProblems(status int) []*problem.Problem {
	switch status {
	case http.StatusBadRequest:
		p := problem.CodeMalformedJSON.New()
		p.Errors = []problem.FieldError{{Location: "body", Message: "unexpected end of JSON input", Code: problem.FieldMalformedJSON.Name}}
		return []*problem.Problem{p, codeInvalidUTF8.New(), codeInvalidFraming.New()}
	case http.StatusServiceUnavailable:
		return []*problem.Problem{problemOf(database.ErrUnavailable), codeServerFull.New()}
	default:
		return []*problem.Problem{problem.New(status)}
	}
}

func example(p *problem.Problem) *huma.Example {
	c := *p
	c.RequestID = "4f1c2a9e7b3d5c6a8e0f1b2c"
	return &huma.Example{Summary: c.Detail, Value: &c}
}

// describeProblem documents the code property of Problem (or of
// ProblemFieldError) and lists the catalogue beside it, so the document
// carries every code with its status and meaning (docs/errors.md is the
// same list).
func describeProblem(s *huma.Schema, field bool) {
	var entries []problem.Entry
	for _, e := range problem.Catalogue() {
		if e.Field == field {
			entries = append(entries, e)
		}
	}
	if s.Extensions == nil {
		s.Extensions = map[string]any{}
	}
	s.Extensions["x-error-codes"] = entries
	if code := s.Properties["code"]; code != nil {
		if field {
			code.Description = "Stable, machine-readable: which rule this field broke. Every value, with its meaning, is listed in x-error-codes."
		} else {
			code.Description = "Stable, machine-readable: switch on this, not on title or detail. Every value, with its status and meaning, is listed in x-error-codes (and docs/errors.md)."
		}
	}
}

// exampleOf composes an example object from its properties' examples.
func exampleOf(reg huma.Registry, s *huma.Schema, depth int) any {
	if depth > 4 {
		return nil
	}
	if s.Ref != "" {
		s = reg.SchemaFromRef(s.Ref)
		if s == nil {
			return nil
		}
	}
	if len(s.Examples) > 0 {
		return s.Examples[0]
	}
	switch s.Type {
	case huma.TypeObject:
		if len(s.Properties) == 0 {
			return nil
		}
		// Every required property needs an example of its own: an
		// object example missing one would not be realistic.
		out := map[string]any{}
		for name, p := range s.Properties {
			if v := exampleOf(reg, p, depth+1); v != nil {
				out[name] = v
			} else if slices.Contains(s.Required, name) {
				return nil
			}
		}
		return out
	case huma.TypeArray:
		if s.Items == nil {
			return nil
		}
		if v := exampleOf(reg, s.Items, depth+1); v != nil {
			return []any{v}
		}
	}
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func ptr[T any](v T) *T { return &v }

func problemOf(e *fault.Error) *problem.Problem { return problem.From(context.Background(), e) }
