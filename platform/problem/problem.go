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
	Type      string       `json:"type" example:"about:blank"`
	Title     string       `json:"title" example:"Conflict"`
	Status    int          `json:"status" example:"409"`
	Detail    string       `json:"detail,omitempty" example:"A user with this email already exists."`
	Code      string       `json:"code" example:"email_taken"`
	RequestID string       `json:"request_id,omitempty" doc:"Also in the X-Request-ID header; quote it when reporting a problem." example:"4f1c2a9e7b3d5c6a8e0f1b2c"`
	Errors    []FieldError `json:"errors,omitempty" nullable:"false" doc:"One entry per failing input (validation_failed, malformed_json)."`
	// RetryAfter is the Retry-After header in seconds (0: none); it is a
	// header, not part of the body.
	RetryAfter int `json:"-"`
}

// FieldError names one failing input. The submitted value is never echoed:
// it may be a password.
type FieldError struct {
	Location string `json:"location" doc:"Where: body.<field>, path.<name>, query.<name>, or body for the body as a whole." example:"body.email"`
	Message  string `json:"message" example:"expected string to be RFC 5322 email: mail: missing '@' or angle-addr"`
	Code     string `json:"code" example:"format_email"`
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
	fault.Refused:         http.StatusBadRequest,
	fault.Internal:        http.StatusInternalServerError,
}

// The codes of errors that carry no domain code: the router's, fiber's and
// huma's, by status. Each has one detail, whoever raises it.
var (
	CodeMalformedRequest = Declare(http.StatusBadRequest, "malformed_request", "The request is malformed.")
	CodeMalformedJSON    = Declare(http.StatusBadRequest, "malformed_json", "The request body is not valid JSON; errors[] says where.")
	CodeBodyRequired     = Declare(http.StatusBadRequest, "body_required", "This operation needs a request body.")
	CodeUnauthenticated  = Declare(http.StatusUnauthorized, "unauthenticated", "This request needs authentication.")
	CodeForbidden        = Declare(http.StatusForbidden, "forbidden", "This request is not allowed.")
	CodeNotFound         = Declare(http.StatusNotFound, "not_found", "Nothing is served at this path.")
	CodeMethodNotAllowed = Declare(http.StatusMethodNotAllowed, "method_not_allowed", "This path does not support the method; the Allow header lists those it does.")
	CodeNotAcceptable    = Declare(http.StatusNotAcceptable, "not_acceptable", "No media type the Accept header allows can be produced; ask for application/json.")
	CodeRequestTimeout   = Declare(http.StatusRequestTimeout, "timeout", "The request was not received in time.")
	CodeConflict         = Declare(http.StatusConflict, "conflict", "The request conflicts with the current state.")
	CodeBodyTooLarge     = Declare(http.StatusRequestEntityTooLarge, "body_too_large", "The request body is larger than this operation accepts.")
	CodeUnsupportedMedia = Declare(http.StatusUnsupportedMediaType, "unsupported_media_type", "The request body's Content-Type is not accepted here; send application/json.")
	CodeValidationFailed = Declare(http.StatusUnprocessableEntity, "validation_failed", "The request has invalid fields; errors[] names each with its code.")
	CodeTooManyRequests  = Declare(http.StatusTooManyRequests, "too_many_requests", "Too many attempts; try again later.")
	CodeHeadersTooLarge  = Declare(http.StatusRequestHeaderFieldsTooLarge, "headers_too_large", "The request line and headers are larger than the server accepts.")
	CodeClientError      = Declare(http.StatusBadRequest, "bad_request", "The request cannot be served (a client error without a code of its own; the status says which).")
	CodeInternal         = Declare(http.StatusInternalServerError, "internal_error", "An internal error occurred; it has been logged.")
	CodeNotImplemented   = Declare(http.StatusNotImplemented, "not_implemented", "The server does not know this method.")
	CodeUnavailable      = Declare(http.StatusServiceUnavailable, "unavailable", "The request could not be completed in time; try again shortly.")
)

// byStatus is the code of an error that carries only a status.
var byStatus = func() map[int]Code {
	m := map[int]Code{}
	for _, c := range []Code{
		CodeMalformedRequest, CodeUnauthenticated, CodeForbidden, CodeNotFound, CodeMethodNotAllowed,
		CodeNotAcceptable, CodeRequestTimeout, CodeConflict, CodeBodyTooLarge, CodeUnsupportedMedia,
		CodeValidationFailed, CodeTooManyRequests, CodeHeadersTooLarge, CodeInternal, CodeNotImplemented,
		CodeUnavailable,
	} {
		m[c.Status] = c
	}
	return m
}()

// ForStatus is the declared code of an error that has nothing but a
// status: any other client error is bad_request, any other server error
// internal_error.
func ForStatus(status int) Code {
	if c, ok := byStatus[status]; ok {
		return c
	}
	if status >= 500 {
		return CodeInternal
	}
	return CodeClientError
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

// New returns a problem for a status with the declared code for it and
// its declared detail. A status with no code of its own keeps that status
// under the generic code of its class.
func New(status int) *Problem {
	p := ForStatus(status).New()
	p.Status, p.Title = status, http.StatusText(status)
	return p
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
		p = CodeValidationFailed.New()
		for _, fe := range multi {
			p.Errors = append(p.Errors, fieldError(fe))
		}
		return withRequest(ctx, p)
	}
	if fe, ok := fault.As(err); ok && fe.Kind != fault.Internal {
		if fe.Kind == fault.Invalid {
			// Every 422 has the same top-level code; the specific one is
			// on the field, as it is when several fields fail at once.
			p = CodeValidationFailed.New()
			p.Errors = []FieldError{fieldError(fe)}
		} else {
			p = New(statusOf[fe.Kind])
			p.Code, p.Detail = fe.Code, fe.Message
		}
		p.RetryAfter = RetryAfter(err)
		return withRequest(ctx, p)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		logging.FromContext(ctx).Warn("request aborted", zap.Error(err))
		p = CodeUnavailable.New()
		p.RetryAfter = int(unavailableRetryAfter.Seconds())
		return withRequest(ctx, p)
	}
	logging.FromContext(ctx).Error("request failed", zap.Error(err))
	return withRequest(ctx, CodeInternal.New())
}

func fieldError(fe *fault.Error) FieldError {
	loc := fe.Field
	if loc != "" {
		loc = "body." + loc
	}
	return FieldError{Location: loc, Message: fe.Message, Code: fe.Code}
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

// newError replaces huma.NewErrorWithContext. huma's message (msg) is not
// used as the detail: it differs for one condition ("validation failed" on
// a 400 and a 415 alike), so the code decides the detail.
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
			return withRetryAfter(hctx, From(ctx, err))
		}
		details = append(details, FieldError{Message: err.Error(), Code: classify(err.Error()).Name})
	}
	if status >= 500 {
		logging.FromContext(ctx).Error("request failed", zap.String("detail", msg))
		return withRequest(ctx, New(status))
	}
	return withRequest(ctx, fromHuma(status, msg, details))
}

// humaBodyRequired is huma's message for a missing required body.
const humaBodyRequired = "request body is required"

// fromHuma gives each of huma's client errors its own code: a body that
// is not JSON, a missing body and a media type huma cannot decode are
// told apart from field validation.
func fromHuma(status int, msg string, details []FieldError) *Problem {
	switch status {
	case http.StatusBadRequest:
		if msg == humaBodyRequired {
			return CodeBodyRequired.New()
		}
		if len(details) > 0 && details[0].Location == "body" {
			// huma reports the parser's error on the body as a whole.
			p := CodeMalformedJSON.New()
			p.Errors = []FieldError{{Location: "body", Message: details[0].Message, Code: FieldMalformedJSON.Name}}
			return p
		}
	case http.StatusUnsupportedMediaType:
		// Its message quotes the request's Content-Type: the detail says
		// what to send instead.
		return CodeUnsupportedMedia.New()
	}
	p := New(status)
	p.Errors = details
	return p
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
