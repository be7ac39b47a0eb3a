package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/ent/role"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/jobs"
	"github.com/acme/monolith/platform/metrics"
	"github.com/acme/monolith/platform/testkit"
	"github.com/acme/monolith/platform/txn"
)

type echoArgs struct {
	Text string `json:"text"`
	// FailTimes fails the first attempts; Cancel cancels the job.
	FailTimes int  `json:"fail_times"`
	Cancel    bool `json:"cancel"`
}

func (echoArgs) Kind() string { return "test_echo" }

type echoWorker struct {
	jobs.WorkerDefaults[echoArgs]
	done chan string
}

var errAttempt = errors.New("a failing attempt")

func (w *echoWorker) Work(_ context.Context, j *jobs.Job[echoArgs]) error {
	if j.Args.Cancel {
		return jobs.JobCancel(errors.New("not wanted"))
	}
	if j.Attempt <= j.Args.FailTimes {
		return errAttempt
	}
	w.done <- j.Args.Text
	return nil
}

// NextRetry retries at once, so the test needs no clock.
func (*echoWorker) NextRetry(*jobs.Job[echoArgs]) time.Time { return time.Now() }

// startApp starts the assembled application with the echo worker; work
// says whether this process works jobs.
func startApp(t *testing.T, db *database.DB, work bool) (*apptest.App, *jobs.Queue, chan string) {
	t.Helper()
	app, q, done, _ := startAppWithMetrics(t, db, work)
	return app, q, done
}

func startAppWithMetrics(t *testing.T, db *database.DB, work bool) (*apptest.App, *jobs.Queue, chan string, *metrics.Registry) {
	t.Helper()
	done := make(chan string, 100)
	var q *jobs.Queue
	var reg *metrics.Registry
	app := apptest.Start(t, db,
		testkit.WithEnv("JOBS_WORK", fmt.Sprint(work)),
		testkit.WithEnv("JOBS_POLL_INTERVAL", "50ms"),
		testkit.WithFx(
			jobs.ProvideWorker[echoArgs](func() *echoWorker { return &echoWorker{done: done} }),
			fx.Invoke(func(*jobs.Runner) {}),
			fx.Populate(&q, &reg),
		))
	return app, q, done, reg
}

// counter reads one kind's value of a jobs metric (a histogram: its count).
func counter(t *testing.T, reg *metrics.Registry, name, kind string) float64 {
	t.Helper()
	families, err := reg.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "kind" && l.GetValue() == kind {
					if h := m.GetHistogram(); h != nil {
						return float64(h.GetSampleCount())
					}
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func waitState(t *testing.T, q *jobs.Queue, id int64, want rivertype.JobState) *jobs.JobRow {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		j, err := q.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.State == want {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %d is %s after 20s, want %s (errors %v)", id, j.State, want, j.Errors)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func receive(t *testing.T, done chan string) string {
	t.Helper()
	select {
	case s := <-done:
		return s
	case <-time.After(20 * time.Second):
		t.Fatal("no job was worked within 20s")
		return ""
	}
}

func TestEnqueueAndWork(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		_, q, done, reg := startAppWithMetrics(t, db, true)
		ctx := context.Background()

		j, err := q.Enqueue(ctx, echoArgs{Text: "Zoë 日本 🚀"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := receive(t, done); got != "Zoë 日本 🚀" {
			t.Errorf("worked %q", got)
		}
		waitState(t, q, j.ID, rivertype.JobStateCompleted)

		// A failing attempt is retried, and the job completes on the next.
		j, err = q.Enqueue(ctx, echoArgs{Text: "retried", FailTimes: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := receive(t, done); got != "retried" {
			t.Errorf("worked %q", got)
		}
		if j = waitState(t, q, j.ID, rivertype.JobStateCompleted); j.Attempt != 2 || len(j.Errors) != 1 {
			t.Errorf("completed at attempt %d with errors %v, want attempt 2 after one error", j.Attempt, j.Errors)
		}

		// Out of attempts, a job is discarded and stays visible with its errors.
		j, err = q.Enqueue(ctx, echoArgs{Text: "never", FailTimes: 10}, &jobs.InsertOpts{MaxAttempts: 2})
		if err != nil {
			t.Fatal(err)
		}
		if j = waitState(t, q, j.ID, rivertype.JobStateDiscarded); len(j.Errors) != 2 {
			t.Errorf("discarded with errors %v, want 2", j.Errors)
		}

		// A worker's JobCancel ends the job as cancelled, without retries.
		j, err = q.Enqueue(ctx, echoArgs{Text: "cancel", Cancel: true}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if j = waitState(t, q, j.ID, rivertype.JobStateCancelled); j.Attempt != 1 {
			t.Errorf("cancelled at attempt %d", j.Attempt)
		}

		// Unique: an equal job while one exists inserts nothing new.
		opts := &jobs.InsertOpts{UniqueOpts: jobs.UniqueOpts{ByArgs: true}, ScheduledAt: time.Now().Add(time.Hour)}
		a, err := q.Enqueue(ctx, echoArgs{Text: "once"}, opts)
		if err != nil {
			t.Fatal(err)
		}
		b, err := q.Enqueue(ctx, echoArgs{Text: "once"}, opts)
		if err != nil || a.ID != b.ID {
			t.Errorf("a unique job was inserted twice: %d, %d (%v)", a.ID, b.ID, err)
		}

		// Per-kind metrics, as River reported the outcomes: 2 completed;
		// 1 retried then 2 failed attempts of which the last discarded;
		// 1 cancelled; every attempt's queue latency. The duplicate unique
		// enqueue counts nothing.
		for name, want := range map[string]float64{
			"jobs_enqueued_total": 5, "jobs_completed_total": 2, "jobs_failed_total": 3,
			"jobs_retried_total": 2, "jobs_discarded_total": 1, "jobs_cancelled_total": 1,
			"jobs_queue_latency_seconds": 6,
		} {
			deadline := time.Now().Add(10 * time.Second)
			for counter(t, reg, name, "test_echo") != want && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if got := counter(t, reg, name, "test_echo"); got != want {
				t.Errorf("%s{kind=test_echo} = %v, want %v", name, got, want)
			}
		}
	})
}

// countJobs counts the jobs of the echo kind that hold text.
func countJobs(t *testing.T, q *jobs.Queue, text string) int {
	t.Helper()
	res, err := q.Client().JobList(context.Background(), river.NewJobListParams().Kinds("test_echo").First(1000))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, j := range res.Jobs {
		if strings.Contains(string(j.EncodedArgs), text) {
			n++
		}
	}
	return n
}

// TestTransactionalEnqueue: a job enqueued inside txn.Run exists only if
// the transaction commits, with the ent write beside it.
func TestTransactionalEnqueue(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		_, q, _ := startApp(t, db, false) // nothing works the jobs: they stay
		ctx := context.Background()
		boom := errors.New("boom")

		err := txn.Run(ctx, db.Ent, func(ctx context.Context) error {
			if _, err := txn.Client(ctx, db.Ent).Role.Create().SetName("rolled-back").Save(ctx); err != nil {
				return err
			}
			if _, err := q.Enqueue(ctx, echoArgs{Text: "rolled-back"}, nil); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Run: %v", err)
		}
		if n := countJobs(t, q, "rolled-back"); n != 0 {
			t.Errorf("a rolled-back transaction left %d job(s)", n)
		}

		err = txn.Run(ctx, db.Ent, func(ctx context.Context) error {
			if _, err := txn.Client(ctx, db.Ent).Role.Create().SetName("committed").Save(ctx); err != nil {
				return err
			}
			_, err := q.Enqueue(ctx, echoArgs{Text: "committed"}, nil)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := countJobs(t, q, "committed"); n != 1 {
			t.Errorf("a committed transaction left %d job(s), want 1", n)
		}
		if ok, _ := db.Ent.Role.Query().Where(role.Name("committed")).Exist(ctx); !ok {
			t.Error("the committed row is missing")
		}

		// Concurrent transactions each commit their own job.
		const n = 20
		errs := make(chan error, n)
		for i := range n {
			go func() {
				errs <- txn.Run(ctx, db.Ent, func(ctx context.Context) error {
					_, err := q.Enqueue(ctx, echoArgs{Text: fmt.Sprintf("burst-%02d-ü", i)}, nil)
					return err
				})
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Error(err)
			}
		}
		if got := countJobs(t, q, "burst-"); got != n {
			t.Errorf("%d jobs from %d concurrent transactions", got, n)
		}
	})
}
