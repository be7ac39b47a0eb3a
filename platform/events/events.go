// Package events carries domain events from one module to others on the
// job queue (platform/jobs), so a module reacts to what another does
// without importing it. A module declares what it publishes
// (Publishes[E]) and what it subscribes to (Subscribe[E]) through fx,
// which keeps the picture of who talks to whom static (`app graph`).
//
// It is a transactional outbox: Publish inserts, in the transaction of
// the change the event reports (txn.Run), one job per subscription, so a
// rolled-back change publishes nothing and a committed one reaches every
// subscriber at least once, each on its own: a failing subscriber is
// retried with backoff without holding the others back. Every delivery
// carries a stable id ("<event id>/<subscription>"); a delivery handled
// once is recorded (event_receipts) and not handled again when it is
// worked a second time, and a subscriber whose effect lives in its own
// database transaction can also key it on Delivery.ID.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"time"

	"github.com/google/uuid"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform/jobs"
)

// Event is a domain event: a struct with JSON tags whose EventName
// ("account.created") is stable, since it is stored with every delivery.
// It carries what subscribers need to act without calling back, and no
// secret: deliveries are readable in the job queue.
type Event interface {
	EventName() string
}

// Delivery is one event as one subscription receives it.
type Delivery[E Event] struct {
	// ID is the same on every attempt and every redelivery of this event
	// to this subscription, and differs between subscriptions: key an
	// idempotent effect on it.
	ID           string
	EventID      uuid.UUID
	Subscription string
	PublishedAt  time.Time
	// Attempt counts from 1; a retry after a failure is 2, and so on.
	Attempt int
	Event   E
}

// Subscriber handles the deliveries of events of type E. An error makes
// the queue try again later (backoff); an error wrapped by Permanent
// stops retrying. A subscriber may also implement
// NextRetry(attempt int) time.Time, Timeout() time.Duration and
// MaxAttempts() int to change the queue's defaults for its deliveries.
type Subscriber[E Event] interface {
	Handle(ctx context.Context, d Delivery[E]) error
}

// Permanent wraps an error of a subscriber that no retry can fix (a
// delivery it cannot act on): the delivery is cancelled, and stays
// visible in the queue with the error.
func Permanent(err error) error { return jobs.JobCancel(err) }

// Optional tuning a subscriber may implement.
type (
	retrier   interface{ NextRetry(attempt int) time.Time }
	timeouter interface{ Timeout() time.Duration }
	attempter interface{ MaxAttempts() int }
)

// Names of events and subscriptions: lower-case words joined by dots,
// underscores or dashes; both are stored, so they must not change.
var validName = regexp.MustCompile(`^[a-z][a-z0-9]*([._-][a-z0-9]+)*$`)

const maxName = 100

func checkName(what, name string) error {
	if len(name) > maxName || !validName.MatchString(name) {
		return fmt.Errorf("events: %s name %q: use at most %d lower-case letters and digits joined by '.', '_' or '-' (e.g. account.created)", what, name, maxName)
	}
	return nil
}

// group is the fx value group of Declarations.
const group = "events"

// Declaration is what a module declares: that it publishes an event, or
// that one of its subscriptions receives it. The graph reads them.
type Declaration struct {
	// Event is the event's stable name, Type its Go type.
	Event string
	Type  string
	// Subscription names the subscription; empty for a publication.
	Subscription string
	// Provides is the fx output the declaring module provides beside the
	// declaration (the *Publisher[E], or the named Subscriber[E]), by
	// which a picture of the graph finds the module that declared it.
	Provides string

	sub *subscription
}

// Publishes declares that the module publishes events of type E and
// provides the *Publisher[E] it publishes them with. One module owns an
// event: a second Publishes of one type fails the start.
func Publishes[E Event]() fx.Option {
	name := zero[E]().EventName()
	decl := Declaration{Event: name, Type: typeName[E](), Provides: reflect.TypeFor[*Publisher[E]]().String()}
	return fx.Options(
		fx.Provide(func(b *Bus) *Publisher[E] { return &Publisher[E]{bus: b} }),
		fx.Provide(fx.Annotate(func() (Declaration, error) { return decl, checkName("event", name) }, fx.ResultTags(`group:"`+group+`"`))),
	)
}

// Publisher publishes events of type E (Publishes[E] provides it).
type Publisher[E Event] struct{ bus *Bus }

// Publish publishes e (see Bus.Publish).
func (p *Publisher[E]) Publish(ctx context.Context, e E) error { return p.bus.Publish(ctx, e) }

// Subscribe declares the subscription name (stable: it is stored with
// each delivery, "notes.owner_cleanup") to events of type E, handled by
// what ctor returns: an fx constructor of a type that implements
// Subscriber[E] (and optionally an error). Each subscription gets its
// own job per event, so its failures and retries are its own.
func Subscribe[E Event](name string, ctor any) fx.Option {
	event := zero[E]().EventName()
	tag := `name:"` + subscriberTag(name) + `"`
	return fx.Options(
		fx.Provide(fx.Annotate(ctor, fx.As(new(Subscriber[E])), fx.ResultTags(tag))),
		fx.Provide(fx.Annotate(func(s Subscriber[E]) (Declaration, error) {
			if err := errors.Join(checkName("event", event), checkName("subscription", name)); err != nil {
				return Declaration{}, err
			}
			return Declaration{
				Event: event, Type: typeName[E](), Subscription: name,
				Provides: reflect.TypeFor[Subscriber[E]]().String() + `[name="` + subscriberTag(name) + `"]`,
				sub:      newSubscription(name, event, s),
			}, nil
		}, fx.ParamTags(tag), fx.ResultTags(`group:"`+group+`"`))),
	)
}

func subscriberTag(name string) string { return "events.subscriber:" + name }

func zero[E any]() E {
	var e E
	return e
}

func typeName[E any]() string { return reflect.TypeFor[E]().String() }

// subscription is a Subscriber[E] with its type erased, for the worker.
type subscription struct {
	name, event string
	handle      func(ctx context.Context, d delivery, attempt int) error
	nextRetry   func(attempt int) time.Time
	timeout     time.Duration
	maxAttempts int
}

func newSubscription[E Event](name, event string, s Subscriber[E]) *subscription {
	sub := &subscription{name: name, event: event}
	sub.handle = func(ctx context.Context, d delivery, attempt int) error {
		var e E
		if err := json.Unmarshal(d.Payload, &e); err != nil {
			// No retry decodes it better: keep the job visible, cancelled.
			return jobs.JobCancel(fmt.Errorf("decode %s for %s: %w", d.Event, name, err))
		}
		id, err := uuid.Parse(d.EventID)
		if err != nil {
			return jobs.JobCancel(fmt.Errorf("event id %q: %w", d.EventID, err))
		}
		return s.Handle(ctx, Delivery[E]{
			ID: deliveryID(d.EventID, name), EventID: id, Subscription: name,
			PublishedAt: d.PublishedAt, Attempt: attempt, Event: e,
		})
	}
	if r, ok := s.(retrier); ok {
		sub.nextRetry = r.NextRetry
	}
	if t, ok := s.(timeouter); ok {
		sub.timeout = t.Timeout()
	}
	if a, ok := s.(attempter); ok {
		sub.maxAttempts = a.MaxAttempts()
	}
	return sub
}

func deliveryID(eventID, subscription string) string { return eventID + "/" + subscription }

// delivery is the job of one event for one subscription.
type delivery struct {
	Subscription string          `json:"subscription"`
	Event        string          `json:"event"`
	EventID      string          `json:"event_id"`
	PublishedAt  time.Time       `json:"published_at"`
	Payload      json.RawMessage `json:"payload"`
}

// Kind implements jobs.Args: every delivery is one kind, whose worker
// hands it to the subscription it names.
func (delivery) Kind() string { return "event_delivery" }

// registry holds the declarations once the application is built
// (connect); the Bus and the delivery worker read it.
type registry struct {
	published map[string]bool
	byEvent   map[string][]*subscription
	byName    map[string]*subscription
}

func newRegistry() *registry {
	return &registry{published: map[string]bool{}, byEvent: map[string][]*subscription{}, byName: map[string]*subscription{}}
}

type connectParams struct {
	fx.In
	Registry     *registry
	Declarations []Declaration `group:"events"`
}

// connect fills the registry from every module's declarations. It is an
// invoke rather than a dependency of the Bus: a subscriber may depend on
// a service that publishes, which would otherwise be a cycle.
func connect(p connectParams) error {
	r := p.Registry
	for _, d := range p.Declarations {
		if d.sub == nil {
			r.published[d.Event] = true
			continue
		}
		if r.byName[d.Subscription] != nil {
			return fmt.Errorf("events: two subscriptions are named %q", d.Subscription)
		}
		r.byName[d.Subscription] = d.sub
		r.byEvent[d.Event] = append(r.byEvent[d.Event], d.sub)
	}
	for _, subs := range r.byEvent {
		sort.Slice(subs, func(i, j int) bool { return subs[i].name < subs[j].name })
	}
	return nil
}

// Bus publishes events.
type Bus struct {
	queue *jobs.Queue
	reg   *registry
	now   func() time.Time
}

// NewBus returns the bus over the job queue.
func NewBus(q *jobs.Queue, r *registry) *Bus { return &Bus{queue: q, reg: r, now: time.Now} }

// Publish enqueues a delivery of e for every subscription to its event,
// in the transaction ctx carries (txn.Run): they exist only if it
// commits. Outside a transaction they are inserted together at once. An
// event nobody subscribes to costs nothing. An event no module declared
// (Publishes) is refused, so the graph never misses a publisher.
func (b *Bus) Publish(ctx context.Context, e Event) error {
	name := e.EventName()
	if !b.reg.published[name] {
		return fmt.Errorf("publish %s: no module declares it (events.Publishes[%T])", name, e)
	}
	subs := b.reg.byEvent[name]
	if len(subs) == 0 {
		return nil
	}
	payload, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("publish %s: %w", name, err)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("publish %s: %w", name, err)
	}
	at := b.now().UTC().Truncate(time.Microsecond)
	batch := make([]jobs.InsertManyParams, 0, len(subs))
	for _, s := range subs {
		var opts *jobs.InsertOpts
		if s.maxAttempts > 0 {
			opts = &jobs.InsertOpts{MaxAttempts: s.maxAttempts}
		}
		batch = append(batch, jobs.InsertManyParams{
			Args:       delivery{Subscription: s.name, Event: name, EventID: id.String(), PublishedAt: at, Payload: payload},
			InsertOpts: opts,
		})
	}
	if _, err := b.queue.EnqueueMany(ctx, batch); err != nil {
		return fmt.Errorf("publish %s: %w", name, err)
	}
	return nil
}

// worker works deliveries: each goes to the subscription it names, once
// per delivery id.
type worker struct {
	jobs.WorkerDefaults[delivery]
	reg      *registry
	receipts *receipts
	log      *zap.Logger
}

func (w *worker) Work(ctx context.Context, j *jobs.Job[delivery]) error {
	s := w.reg.byName[j.Args.Subscription]
	if s == nil {
		// Retried, not dropped: during a rolling update a newer replica
		// may know the subscription.
		return fmt.Errorf("deliver %s: no subscription %q in this binary", j.Args.Event, j.Args.Subscription)
	}
	id := deliveryID(j.Args.EventID, s.name)
	done, err := w.receipts.seen(ctx, id)
	if err != nil {
		return fmt.Errorf("deliver %s to %s: %w", j.Args.Event, s.name, err)
	}
	if done {
		w.log.Debug("delivery already handled", zap.String("delivery", id))
		return nil
	}
	if err := s.handle(ctx, j.Args, j.Attempt); err != nil {
		return fmt.Errorf("deliver %s to %s: %w", j.Args.Event, s.name, err)
	}
	if err := w.receipts.record(ctx, id, s.name); err != nil {
		return fmt.Errorf("deliver %s to %s: %w", j.Args.Event, s.name, err)
	}
	return nil
}

// NextRetry is the subscription's, or River's default backoff.
func (w *worker) NextRetry(j *jobs.Job[delivery]) time.Time {
	if s := w.reg.byName[j.Args.Subscription]; s != nil && s.nextRetry != nil {
		return s.nextRetry(j.Attempt)
	}
	return time.Time{}
}

// Timeout is the subscription's, or the queue's default.
func (w *worker) Timeout(j *jobs.Job[delivery]) time.Duration {
	if s := w.reg.byName[j.Args.Subscription]; s != nil {
		return s.timeout
	}
	return 0
}

// Module provides the Bus and the delivery worker, and prunes old
// receipts daily.
var Module = fx.Options(
	fx.Provide(newRegistry, NewBus, newReceipts),
	jobs.ProvideWorker[delivery](func(r *registry, rc *receipts, log *zap.Logger) *worker {
		return &worker{reg: r, receipts: rc, log: log.Named("events")}
	}),
	pruning,
	fx.Invoke(connect),
)
