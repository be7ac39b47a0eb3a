// Package problem writes errors as RFC 9457 problem details and is the one
// place where domain errors become HTTP statuses.
//
// Handlers return errors (usually *fault.Error from a service); huma hands
// them to NewErrorWithContext, which this package replaces at init so that
// huma's own errors (validation, malformed bodies) and domain errors share
// one shape: {type,title,status,detail,code,request_id,errors[]}. An error
// that is not a fault is a bug or an outage: the client gets a generic 500
// and the cause is logged with the request id.
package problem

import (
	"context"
	"errors"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/logging"
)

// ContentType is the RFC 9457 media type.
const ContentType = "application/problem+json"

// Problem is an RFC 9457 problem details object with two extension
// members: a stable machine-readable code and the request id.
type Problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail,omitempty"`
	Code      string       `json:"code"`
	RequestID string       `json:"request_id,omitempty"`
	Errors    []FieldError `json:"errors,omitempty"`
	// RetryAfter is the Retry-After header in seconds (0: none); it is a
	// header, not part of the body.
	RetryAfter int `json:"-"`
}

// FieldError names one failing input. The submitted value is never echoed:
// it may be a password.
type FieldError struct {
	Location string `json:"location"`
	Message  string `json:"message"`
	Code     string `json:"code,omitempty"`
}

// Error implements error.
func (p *Problem) Error() string { return p.Detail }

// GetStatus implements huma.StatusError.
func (p *Problem) GetStatus() int { return p.Status }

// ContentType implements huma.ContentTypeFilter.
func (p *Problem) ContentType(string) string { return ContentType }

// statusOf is the mapping table from domain error kinds to HTTP.
var statusOf = map[fault.Kind]int{
	fault.Invalid:         http.StatusUnprocessableEntity,
	fault.NotFound:        http.StatusNotFound,
	fault.Conflict:        http.StatusConflict,
	fault.Unauthenticated: http.StatusUnauthorized,
	fault.Forbidden:       http.StatusForbidden,
	fault.TooManyRequests: http.StatusTooManyRequests,
	fault.Unavailable:     http.StatusServiceUnavailable,
	fault.Internal:        http.StatusInternalServerError,
}

// codeOf names the errors that carry no domain code (huma's and fiber's).
var codeOf = map[int]string{
	http.StatusBadRequest:                  "malformed_request",
	http.StatusUnauthorized:                "unauthenticated",
	http.StatusForbidden:                   "forbidden",
	http.StatusNotFound:                    "not_found",
	http.StatusMethodNotAllowed:            "method_not_allowed",
	http.StatusNotAcceptable:               "not_acceptable",
	http.StatusConflict:                    "conflict",
	http.StatusRequestEntityTooLarge:       "body_too_large",
	http.StatusUnsupportedMediaType:        "unsupported_media_type",
	http.StatusUnprocessableEntity:         "validation_failed",
	http.StatusTooManyRequests:             "too_many_requests",
	http.StatusRequestHeaderFieldsTooLarge: "headers_too_large",
	http.StatusServiceUnavailable:          "unavailable",
	http.StatusGatewayTimeout:              "timeout",
	http.StatusRequestTimeout:              "timeout",
}

// unavailableRetryAfter is what a 503 tells the client when the fault has
// no better estimate: about how long the pool takes to reconnect.
const unavailableRetryAfter = 5 * time.Second

// Status is the HTTP status of err by the table: what From answers, for
// endpoints that write their own bodies (the OAuth2 token endpoint).
func Status(err error) int {
	var p *Problem
	if errors.As(err, &p) {
		return p.Status
	}
	var multi fault.Multi
	if errors.As(err, &multi) && len(multi) > 0 {
		return http.StatusUnprocessableEntity
	}
	if fe, ok := fault.As(err); ok && fe.Kind != fault.Internal {
		return statusOf[fe.Kind]
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// RetryAfter is the Retry-After value in whole seconds for err, 0 for none:
// the fault's own hint, or for an Unavailable fault without one, a default
// (RFC 9110 §10.2.3: a 503 should say when to come back).
func RetryAfter(err error) int {
	fe, ok := fault.As(err)
	if !ok {
		return 0
	}
	d := fe.RetryAfter
	if d <= 0 && fe.Kind == fault.Unavailable {
		d = unavailableRetryAfter
	}
	if d <= 0 {
		return 0
	}
	return max(1, int(math.Ceil(d.Seconds())))
}

// New returns a problem for a status with the default code for it.
func New(status int, detail string) *Problem {
	code, ok := codeOf[status]
	if !ok {
		if status >= 500 {
			code = "internal_error"
		} else {
			code = "bad_request"
		}
	}
	return &Problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Code: code}
}

// From converts any error into a problem: faults by the table, anything
// else as an opaque 500 whose cause is logged.
func From(ctx context.Context, err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return withRequest(ctx, p)
	}
	var multi fault.Multi
	if errors.As(err, &multi) && len(multi) > 0 {
		p = New(http.StatusUnprocessableEntity, "The request has invalid fields.")
		for _, fe := range multi {
			p.Errors = append(p.Errors, fieldError(fe))
		}
		return withRequest(ctx, p)
	}
	if fe, ok := fault.As(err); ok && fe.Kind != fault.Internal {
		p = New(statusOf[fe.Kind], fe.Message)
		if fe.Kind == fault.Invalid {
			// Every 422 has the same top-level code; the specific one is
			// on the field, as it is when several fields fail at once.
			p.Detail = "The request has invalid fields."
			p.Errors = []FieldError{fieldError(fe)}
		} else {
			p.Code = fe.Code
		}
		p.RetryAfter = RetryAfter(err)
		return withRequest(ctx, p)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		logging.FromContext(ctx).Warn("request aborted", zap.Error(err))
		return withRequest(ctx, New(http.StatusServiceUnavailable, "The request could not be completed in time."))
	}
	logging.FromContext(ctx).Error("request failed", zap.Error(err))
	return withRequest(ctx, New(http.StatusInternalServerError, "An internal error occurred; it has been logged."))
}

func fieldError(fe *fault.Error) FieldError {
	loc := fe.Field
	if loc != "" {
		loc = "body." + loc
	}
	return FieldError{Location: loc, Message: fe.Message, Code: fe.Code}
}

// requiredProperty matches huma's message for a missing field, which it
// reports on the parent object; the field is moved into the location so
// that every failing field is named the same way.
var requiredProperty = regexp.MustCompile(`^expected required property (\S+) to be present$`)

// dependentProperty is huma's message for a field that another one needs
// (JSON Schema dependentRequired), reported the same way.
var dependentProperty = regexp.MustCompile(`^expected property (\S+) to be present when (\S+) is present$`)

func detail(ed *huma.ErrorDetail) FieldError {
	fe := FieldError{Location: ed.Location, Message: ed.Message}
	if m := requiredProperty.FindStringSubmatch(ed.Message); m != nil {
		fe.Location += "." + m[1]
		fe.Message = "is required"
		fe.Code = "required"
	} else if m := dependentProperty.FindStringSubmatch(ed.Message); m != nil {
		fe.Location += "." + m[1]
		fe.Message = "is required with " + m[2]
		fe.Code = "required"
	}
	return fe
}

// withRetryAfter sets the Retry-After header before huma writes p.
func withRetryAfter(hctx huma.Context, p *Problem) *Problem {
	if hctx != nil && p.RetryAfter > 0 {
		hctx.SetHeader("Retry-After", strconv.Itoa(p.RetryAfter))
	}
	return p
}

func withRequest(ctx context.Context, p *Problem) *Problem {
	if p.RequestID == "" {
		p.RequestID = logging.RequestID(ctx)
	}
	return p
}

// newError replaces huma.NewErrorWithContext.
func newError(hctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
	ctx := context.Background()
	if hctx != nil {
		ctx = hctx.Context()
	}
	var details []FieldError
	for _, err := range errs {
		if err == nil {
			continue
		}
		if _, ok := fault.As(err); ok {
			return withRetryAfter(hctx, From(ctx, err))
		}
		var m fault.Multi
		if errors.As(err, &m) {
			return From(ctx, err)
		}
		if d, ok := err.(huma.ErrorDetailer); ok {
			details = append(details, detail(d.ErrorDetail()))
			continue
		}
		if status >= 500 {
			return From(ctx, err)
		}
		details = append(details, FieldError{Message: err.Error()})
	}
	if status >= 500 {
		logging.FromContext(ctx).Error("request failed", zap.String("detail", msg))
		msg = "An internal error occurred; it has been logged."
	}
	p := New(status, msg)
	p.Errors = details
	return withRequest(ctx, p)
}

func init() {
	// huma's error constructors are package variables by design; replacing
	// them is how an application chooses its error shape. Both are set so
	// that no code path produces huma's default model.
	huma.NewErrorWithContext = newError
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		return newError(nil, status, msg, errs...)
	}
}
