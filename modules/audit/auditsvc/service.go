// Package auditsvc is the audit module's business logic: it records the
// entries other modules hand it (platform/audit's Recorder), answers the
// administrators' queries and prunes what is older than the retention. It
// knows nothing of HTTP or ent.
package auditsvc

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/acme/monolith/platform/audit"
	"github.com/acme/monolith/platform/authz"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/paging"
)

// Event is a recorded entry with its id.
type Event struct {
	ID uuid.UUID
	audit.Entry
}

// Filter narrows a query; zero fields match everything.
type Filter struct {
	ActorKind  audit.ActorKind
	ActorID    string
	Action     string
	TargetType string
	TargetID   string
	// From and To bound the time: From <= time < To.
	From, To time.Time
}

// Storer persists entries. Insert writes in the transaction ctx carries
// (platform/txn) when there is one.
type Storer interface {
	Insert(ctx context.Context, e Event) error
	List(ctx context.Context, f Filter, r paging.Request) (paging.Result[Event], error)
	// Prune deletes the entries older than cutoff and says how many.
	Prune(ctx context.Context, cutoff time.Time) (int, error)
}

// PermRead lets its holder read the audit log.
const PermRead = "audit:read"

// Permissions are what the module declares (authz.Provide in audit.go).
var Permissions = []authz.Permission{
	{Name: PermRead, Description: "Read the audit log (who did what to whom, when, from where)"},
}

// Errors of a query's filters.
var (
	ErrBadTime      = fault.New(fault.Invalid, "invalid_time", "is not an RFC 3339 time such as 2026-03-14T09:26:53Z")
	ErrTimeRange    = fault.New(fault.Invalid, "invalid_time_range", "must be after from")
	ErrBadActorKind = fault.New(fault.Invalid, "invalid_actor_kind", "must be user, service or system")
	ErrBadAction    = fault.New(fault.Invalid, "invalid_action", "is not a dotted action name such as auth.sign_in.failed")
	ErrTargetID     = fault.New(fault.Invalid, "target_type_required", "needs target_type as well")
)

// Context reads what the request context carries about the client.
type Context func(ctx context.Context) (clientIP, requestID string)

// Service records and queries the audit log.
type Service struct {
	store     Storer
	context   Context
	now       func() time.Time
	retention time.Duration
}

// Options are the service's settings.
type Options struct {
	// Retention is how long an entry is kept (Prune).
	Retention time.Duration
	// Context, if set, gives the client address and request id of an entry
	// that does not carry them.
	Context Context
	// Now, if set, replaces the clock (tests).
	Now func() time.Time
}

// New returns the service.
func New(store Storer, opts Options) *Service {
	s := &Service{store: store, context: opts.Context, now: opts.Now, retention: opts.Retention}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

var _ audit.Recorder = (*Service)(nil)

// Record implements audit.Recorder: it completes e from ctx, validates it
// (an invalid entry is an error, so the change it describes fails rather
// than going unrecorded or leaking a secret) and writes it, in ctx's
// transaction when there is one.
func (s *Service) Record(ctx context.Context, e audit.Entry) error {
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	if s.context != nil && (e.ClientIP == "" || e.RequestID == "") {
		ip, id := s.context(ctx)
		if e.ClientIP == "" {
			e.ClientIP = ip
		}
		if e.RequestID == "" {
			e.RequestID = id
		}
	}
	if err := audit.Validate(e); err != nil {
		return fmt.Errorf("record %s: %w", e.Action, err)
	}
	if err := s.store.Insert(ctx, Event{ID: uuid.New(), Entry: e}); err != nil {
		return fmt.Errorf("record %s: %w", e.Action, err)
	}
	return nil
}

// Check validates a filter, naming each bad field.
func (f Filter) Check() error {
	var errs fault.Multi
	if f.ActorKind != "" && !f.ActorKind.Valid() {
		errs = append(errs, ErrBadActorKind.On("actor_kind"))
	}
	if f.Action != "" && audit.Validate(audit.Entry{Action: f.Action, Actor: audit.System, Target: audit.Target{Type: "x"}}) != nil {
		errs = append(errs, ErrBadAction.On("action"))
	}
	if f.TargetID != "" && f.TargetType == "" {
		errs = append(errs, ErrTargetID.On("target_id"))
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		errs = append(errs, ErrTimeRange.On("to"))
	}
	return errs.Err()
}

// List returns a page of the entries f matches, newest first.
func (s *Service) List(ctx context.Context, f Filter, r paging.Request) (paging.Result[Event], error) {
	if err := f.Check(); err != nil {
		return paging.Result[Event]{}, err
	}
	return s.store.List(ctx, f, r)
}

// Prune deletes the entries older than the retention and says how many.
func (s *Service) Prune(ctx context.Context) (int, error) {
	n, err := s.store.Prune(ctx, s.now().UTC().Add(-s.retention))
	if err != nil {
		return 0, fmt.Errorf("prune audit log: %w", err)
	}
	return n, nil
}
