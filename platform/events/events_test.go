package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.uber.org/fx"

	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/events"
	"github.com/acme/monolith/platform/jobs"
	"github.com/acme/monolith/platform/testkit"
	"github.com/acme/monolith/platform/txn"
)

// filed is the test's event.
type filed struct {
	Text string `json:"text"`
}

func (filed) EventName() string { return "test.filed" }

// ignored is declared and published, and nobody subscribes to it.
type ignored struct{}

func (ignored) EventName() string { return "test.ignored" }

// inbox records what each subscription received.
type inbox struct {
	mu  sync.Mutex
	got map[string][]events.Delivery[filed]
	// fail fails the first attempts of a subscription's deliveries.
	fail map[string]int
	ch   chan struct{}
}

func newInbox() *inbox {
	return &inbox{got: map[string][]events.Delivery[filed]{}, fail: map[string]int{}, ch: make(chan struct{}, 1000)}
}

func (in *inbox) deliveries(sub string) []events.Delivery[filed] {
	in.mu.Lock()
	defer in.mu.Unlock()
	return append([]events.Delivery[filed](nil), in.got[sub]...)
}

var errAttempt = errors.New("a failing attempt")

// subscriber is one subscription's handler, writing into the inbox.
type subscriber struct {
	name string
	in   *inbox
}

func (s subscriber) Handle(_ context.Context, d events.Delivery[filed]) error {
	if d.Subscription != s.name {
		return fmt.Errorf("delivered to %s as %s", s.name, d.Subscription)
	}
	s.in.mu.Lock()
	failing := d.Attempt <= s.in.fail[s.name]
	if !failing {
		s.in.got[s.name] = append(s.in.got[s.name], d)
	}
	s.in.mu.Unlock()
	if failing {
		return errAttempt
	}
	s.in.ch <- struct{}{}
	return nil
}

// NextRetry retries at once, so the test needs no clock.
func (subscriber) NextRetry(int) time.Time { return time.Now() }

// publisher is the source module's service: it publishes inside txn.Run.
type publisher struct {
	db  *database.DB
	pub *events.Publisher[filed]
	bus *events.Bus
}

// startApp runs a source module that publishes filed and two modules that
// subscribe to it, each in its own fx.Module like feature modules.
func startApp(t *testing.T, db *database.DB, in *inbox, work bool) *publisher {
	t.Helper()
	var p publisher
	opts := []testkit.Option{
		testkit.WithModules(
			fx.Module("source", events.Publishes[filed](), events.Publishes[ignored]()),
			fx.Module("alpha", events.Subscribe[filed]("alpha.react", func() subscriber { return subscriber{"alpha.react", in} })),
			fx.Module("beta", events.Subscribe[filed]("beta.react", func() subscriber { return subscriber{"beta.react", in} })),
		),
		testkit.WithFx(fx.Populate(&p.pub, &p.bus)),
	}
	if work {
		opts = append(opts, testkit.WithJobs())
	}
	testkit.Start(t, db, opts...)
	p.db = db
	return &p
}

func (p *publisher) publish(ctx context.Context, text string, fail error) error {
	return txn.Run(ctx, p.db.Ent, func(ctx context.Context) error {
		if err := p.pub.Publish(ctx, filed{Text: text}); err != nil {
			return err
		}
		return fail
	})
}

func wait(t *testing.T, in *inbox, n int) {
	t.Helper()
	for range n {
		select {
		case <-in.ch:
		case <-time.After(30 * time.Second):
			t.Fatalf("%d of %d deliveries within 30s", len(in.deliveries("alpha.react"))+len(in.deliveries("beta.react")), n)
		}
	}
}

// job is a delivery job with its arguments decoded.
type job struct {
	*rivertype.JobRow
	Subscription string `json:"subscription"`
	Event        string `json:"event"`
	Payload      filed  `json:"payload"`
}

// deliveryJobs lists the delivery jobs whose event's text holds text.
func deliveryJobs(t *testing.T, db *database.DB, text string) []job {
	t.Helper()
	q := queue(t, db)
	res, err := q.Client().JobList(context.Background(), river.NewJobListParams().Kinds("event_delivery").First(10000))
	if err != nil {
		t.Fatal(err)
	}
	var out []job
	for _, row := range res.Jobs {
		j := job{JobRow: row}
		if err := json.Unmarshal(row.EncodedArgs, &j); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(j.Payload.Text, text) {
			out = append(out, j)
		}
	}
	return out
}

// queue is a job client on db that only reads and inserts.
func queue(t *testing.T, db *database.DB) *jobs.Queue {
	t.Helper()
	var q *jobs.Queue
	testkit.Start(t, db, testkit.WithFx(fx.Populate(&q)))
	return q
}

// TestEventReachesEverySubscriberOnce: events published by concurrent
// transactions, multibyte text included, reach both subscriptions, each
// exactly once, under a delivery id that is the event's and the
// subscription's.
func TestEventReachesEverySubscriberOnce(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		in := newInbox()
		p := startApp(t, db, in, true)
		const n = 12
		errs := make(chan error, n)
		for i := range n {
			go func() { errs <- p.publish(context.Background(), fmt.Sprintf("Zoë 日本 🚀 %02d", i), nil) }()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		wait(t, in, 2*n)
		ids := map[string]bool{}
		for _, sub := range []string{"alpha.react", "beta.react"} {
			texts := map[string]int{}
			for _, d := range in.deliveries(sub) {
				texts[d.Event.Text]++
				if d.ID != d.EventID.String()+"/"+sub || d.Attempt != 1 || d.PublishedAt.IsZero() {
					t.Errorf("%s: delivery %+v", sub, d)
				}
				if ids[d.ID] {
					t.Errorf("delivery id %s seen twice", d.ID)
				}
				ids[d.ID] = true
			}
			if len(texts) != n {
				t.Errorf("%s received %d distinct events, want %d: %v", sub, len(texts), n, texts)
			}
			for text, c := range texts {
				if c != 1 || !strings.HasPrefix(text, "Zoë 日本 🚀 ") {
					t.Errorf("%s received %q %d times", sub, text, c)
				}
			}
		}
		// An event nobody subscribes to inserts no job; one nobody declared
		// is refused.
		if err := txn.Run(context.Background(), db.Ent, func(ctx context.Context) error {
			return p.bus.Publish(ctx, ignored{})
		}); err != nil {
			t.Fatal(err)
		}
		if err := p.bus.Publish(context.Background(), undeclared{}); err == nil || !strings.Contains(err.Error(), "no module declares it") {
			t.Errorf("undeclared event: %v", err)
		}
		all := deliveryJobs(t, db, "")
		for _, j := range all {
			if j.Event != "test.filed" {
				t.Errorf("a delivery job for another event: %s", j.EncodedArgs)
			}
		}
		if len(all) != 2*n {
			t.Errorf("%d delivery jobs, want %d", len(all), 2*n)
		}
	})
}

type undeclared struct{}

func (undeclared) EventName() string { return "test.undeclared" }

// TestRollbackPublishesNothing: a transaction that rolls back leaves no
// delivery; the committed one beside it leaves one per subscription.
func TestRollbackPublishesNothing(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		p := startApp(t, db, newInbox(), false) // nothing works the jobs: they stay
		boom := errors.New("boom")
		if err := p.publish(context.Background(), "rolled back", boom); !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if err := p.publish(context.Background(), "committed", nil); err != nil {
			t.Fatal(err)
		}
		if got := deliveryJobs(t, db, "rolled back"); len(got) != 0 {
			t.Errorf("a rolled-back transaction left %d deliveries", len(got))
		}
		subs := map[string]bool{}
		for _, j := range deliveryJobs(t, db, "committed") {
			subs[j.Subscription] = true
		}
		if !subs["alpha.react"] || !subs["beta.react"] || len(deliveryJobs(t, db, "committed")) != 2 {
			t.Errorf("the committed event left deliveries for %v, want one each for alpha.react and beta.react", subs)
		}
	})
}

// TestFailingSubscriberRetried: alpha fails its first two attempts and is
// retried under the same delivery id; beta gets the event once, at once,
// unaffected.
func TestFailingSubscriberRetried(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		in := newInbox()
		in.fail["alpha.react"] = 2
		p := startApp(t, db, in, true)
		if err := p.publish(context.Background(), "retried", nil); err != nil {
			t.Fatal(err)
		}
		wait(t, in, 2)
		a, b := in.deliveries("alpha.react"), in.deliveries("beta.react")
		if len(a) != 1 || a[0].Attempt != 3 {
			t.Fatalf("alpha: %+v, want one delivery at attempt 3", a)
		}
		if len(b) != 1 || b[0].Attempt != 1 {
			t.Fatalf("beta: %+v, want one delivery at attempt 1", b)
		}
		if a[0].EventID != b[0].EventID || a[0].ID == b[0].ID {
			t.Errorf("delivery ids %s and %s of events %s and %s", a[0].ID, b[0].ID, a[0].EventID, b[0].EventID)
		}
	})
}

// TestDuplicateDeliveryHandledOnce: a delivery worked again (its job
// retried by an operator, as after a crash between the handler's effect
// and the job's completion) is not handled a second time.
func TestDuplicateDeliveryHandledOnce(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		in := newInbox()
		p := startApp(t, db, in, true)
		if err := p.publish(context.Background(), "once", nil); err != nil {
			t.Fatal(err)
		}
		wait(t, in, 2)
		q := queue(t, db)
		for _, j := range deliveryJobs(t, db, "once") {
			waitState(t, q, j.ID, rivertype.JobStateCompleted)
			if _, err := q.Client().JobRetry(context.Background(), j.ID); err != nil {
				t.Fatal(err)
			}
			if row := waitState(t, q, j.ID, rivertype.JobStateCompleted); row.Attempt != 2 {
				t.Errorf("replayed job at attempt %d, want 2", row.Attempt)
			}
		}
		if a, b := in.deliveries("alpha.react"), in.deliveries("beta.react"); len(a) != 1 || len(b) != 1 {
			t.Errorf("after the replay: alpha %d, beta %d deliveries, want 1 each", len(a), len(b))
		}
	})
}

func waitState(t *testing.T, q *jobs.Queue, id int64, want rivertype.JobState) *jobs.JobRow {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		j, err := q.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State == want && (want != rivertype.JobStateCompleted || j.FinalizedAt != nil) {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d is %s after 30s, want %s (errors %v)", id, j.State, want, j.Errors)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
