package problem

import (
	"fmt"
	"net/http"
	"sort"
	"sync"

	"github.com/acme/monolith/platform/fault"
)

// Code is a problem code that is not a domain error: the router's, the
// HTTP edge's, huma's decoding and validation. It is declared once, with
// its status and the detail every problem of this code carries, so the
// same condition always reads the same and the catalogue knows it.
type Code struct {
	Name   string
	Status int
	Detail string
}

// New returns a problem of this code with its declared detail.
func (c Code) New() *Problem {
	return &Problem{Type: "about:blank", Title: http.StatusText(c.Status), Status: c.Status, Detail: c.Detail, Code: c.Name}
}

// Declare records a problem code. Packages declare theirs as package-level
// variables, so every code is known before the first request. A code
// declared twice must keep its status.
func Declare(status int, name, detail string) Code {
	c := Code{Name: name, Status: status, Detail: detail}
	codes.add(Entry{Code: name, Status: status, Meaning: detail})
	return c
}

// FieldCode is a code carried by one entry of a problem's errors[]: which
// rule a field broke.
type FieldCode struct {
	Name    string
	Meaning string
}

// DeclareField records a field code.
func DeclareField(name, meaning string) FieldCode {
	codes.add(Entry{Code: name, Status: http.StatusUnprocessableEntity, Field: true, Meaning: meaning})
	return FieldCode{Name: name, Meaning: meaning}
}

// Entry is one line of the error catalogue.
type Entry struct {
	// Code is what clients switch on: the problem's code, or with Field
	// the code of an errors[] entry.
	Code string `json:"code"`
	// Status is the HTTP status of a problem with this code; for a field
	// code, the status of the problem that lists it.
	Status  int    `json:"status"`
	Field   bool   `json:"field,omitempty"`
	Meaning string `json:"meaning"`
}

type registry struct {
	mu      sync.Mutex
	entries map[entryKey]Entry
}

type entryKey struct {
	code  string
	field bool
}

var codes = &registry{entries: map[entryKey]Entry{}}

func (r *registry) add(e Entry) {
	if e.Code == "" || e.Meaning == "" {
		panic("problem: a declared code needs a name and a meaning")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := entryKey{e.Code, e.Field}
	if prev, ok := r.entries[k]; ok {
		if prev.Status != e.Status {
			panic(fmt.Sprintf("problem: code %q declared with statuses %d and %d", e.Code, prev.Status, e.Status))
		}
		return
	}
	r.entries[k] = e
}

// Catalogue is every code the program can answer with: the codes declared
// here and by the HTTP server, and every domain error declared with
// fault.New by the packages linked into the program (a module's codes are
// there because its package is, without the platform naming it), each with
// its status by the one table. Problem codes come first, by status and
// code, then field codes by code. Internal faults are absent: clients only
// ever see internal_error.
func Catalogue() []Entry {
	merged := map[entryKey]Entry{}
	codes.mu.Lock()
	for k, e := range codes.entries {
		merged[k] = e
	}
	codes.mu.Unlock()
	for _, fe := range fault.Declared() {
		e, ok := entryOf(fe)
		if !ok {
			continue
		}
		k := entryKey{e.Code, e.Field}
		if _, dup := merged[k]; !dup {
			merged[k] = e
		}
	}
	out := make([]Entry, 0, len(merged))
	for _, e := range merged {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Field != b.Field {
			return !a.Field
		}
		if a.Status != b.Status && !a.Field {
			return a.Status < b.Status
		}
		return a.Code < b.Code
	})
	return out
}

// Known reports whether code is in the catalogue, as a problem code or
// (field) as an errors[] code.
func Known(code string, field bool) bool {
	for _, e := range Catalogue() {
		if e.Code == code && e.Field == field {
			return true
		}
	}
	return false
}

// entryOf places a domain error in the catalogue: Invalid faults are field
// codes of a validation_failed problem, the others problem codes.
func entryOf(fe fault.Error) (Entry, bool) {
	switch fe.Kind {
	case fault.Internal:
		return Entry{}, false
	case fault.Invalid:
		return Entry{Code: fe.Code, Status: http.StatusUnprocessableEntity, Field: true, Meaning: fe.Message}, true
	default:
		return Entry{Code: fe.Code, Status: statusOf[fe.Kind], Meaning: fe.Message}, true
	}
}
