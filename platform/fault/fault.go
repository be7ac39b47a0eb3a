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

// New returns a sentinel domain error.
func New(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// Invalidf reports bad input on one field.
func Invalidf(field, code, format string, args ...any) *Error {
	return &Error{Kind: Invalid, Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
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
