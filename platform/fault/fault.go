// Package fault defines the kinds of domain errors that services return.
//
// Services never know about HTTP: they return a *fault.Error (usually a
// package-level sentinel such as users.ErrNotFound, possibly wrapped with
// context). The HTTP layer maps Kind to a status code in exactly one place
// (platform/problem), and the stable Code travels to clients unchanged.
package fault

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Kind classifies a domain error; it decides the HTTP status.
type Kind int

// The kinds a service may report. Internal is the zero value on purpose: an
// unclassified error is never mistaken for a client error.
const (
	Internal Kind = iota
	Invalid
	NotFound
	Conflict
	Unauthenticated
	Forbidden
	TooManyRequests
	Unavailable
	// Refused is a request refused as a whole under a protocol's rules,
	// with no single input at fault (OAuth2's invalid_request,
	// invalid_grant): unlike Invalid, it names no field.
	Refused
)

// Error is a domain error with a stable, machine-readable code.
type Error struct {
	Kind    Kind
	Code    string // stable, snake_case; clients may switch on it
	Message string // safe to show to a client
	Field   string // for Invalid: the input field at fault, if any
	// RetryAfter, for TooManyRequests and Unavailable, is when the client
	// may try again (the Retry-After header); zero when unknown.
	RetryAfter time.Duration
}

// New returns a sentinel domain error and records it in the catalogue of
// declared codes (Declared), so that every code a service can return is
// known to the error documentation without the platform naming modules.
// Declare sentinels as package-level variables: they are then recorded when
// the program starts, before any request. A code declared twice must keep
// its kind.
func New(kind Kind, code, message string) *Error {
	e := &Error{Kind: kind, Code: code, Message: message}
	declare(e)
	return e
}

// On returns a copy of e about one input field; it still matches e with
// errors.Is.
func (e *Error) On(field string) *Error {
	c := *e
	c.Field = field
	return &c
}

var (
	declaredMu sync.Mutex
	declared   = map[string]Error{}
)

func declare(e *Error) {
	if e.Code == "" {
		panic("fault: a declared error needs a code")
	}
	declaredMu.Lock()
	defer declaredMu.Unlock()
	if prev, ok := declared[e.Code]; ok {
		if prev.Kind != e.Kind {
			panic(fmt.Sprintf("fault: code %q declared with two kinds", e.Code))
		}
		return
	}
	declared[e.Code] = Error{Kind: e.Kind, Code: e.Code, Message: e.Message}
}

// Declared returns every error declared with New so far, one
// per code (the first declaration's message), sorted by code.
func Declared() []Error {
	declaredMu.Lock()
	defer declaredMu.Unlock()
	out := make([]Error, 0, len(declared))
	for _, e := range declared {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// IsDeclared reports whether code was declared with New.
func IsDeclared(code string) bool {
	declaredMu.Lock()
	defer declaredMu.Unlock()
	_, ok := declared[code]
	return ok
}

// WithRetryAfter returns a copy of e that tells the client to wait d; the
// copy still matches e with errors.Is.
func (e *Error) WithRetryAfter(d time.Duration) *Error {
	c := *e
	c.RetryAfter = d
	return &c
}

func (e *Error) Error() string {
	if e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return e.Message
}

// Is makes field-specific copies of a sentinel match the sentinel's code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && t.Kind == e.Kind
}

// As returns the first *Error in err's chain.
func As(err error) (*Error, bool) {
	var fe *Error
	ok := errors.As(err, &fe)
	return fe, ok
}

// Multi is a set of Invalid errors reported together, so a client sees every
// failing field at once rather than one per round trip.
type Multi []*Error

func (m Multi) Error() string {
	msg := "invalid input"
	for _, e := range m {
		msg += "; " + e.Error()
	}
	return msg
}

// Err returns nil for an empty set, so callers can `return m.Err()`.
func (m Multi) Err() error {
	if len(m) == 0 {
		return nil
	}
	return m
}
