package jobs_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/jobs"
	"github.com/acme/monolith/platform/testkit"
)

type slowArgs struct {
	N int `json:"n"`
}

func (slowArgs) Kind() string { return "test_slow" }

// slowWorker takes d per job, or until its context is cancelled.
type slowWorker struct {
	jobs.WorkerDefaults[slowArgs]
	d       time.Duration
	started atomic.Int64
	done    atomic.Int64
}

func (w *slowWorker) Work(ctx context.Context, _ *jobs.Job[slowArgs]) error {
	w.started.Add(1)
	select {
	case <-time.After(w.d):
		w.done.Add(1)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// workerApp is the job runner alone, with the worker, over db.
func workerApp(t *testing.T, db *database.DB, w *slowWorker, extra ...fx.Option) (*fx.App, *jobs.Queue) {
	t.Helper()
	var q *jobs.Queue
	app := fx.New(fx.NopLogger,
		fx.Supply(db, jobs.Settings{Work: true, Concurrency: 4, PollInterval: 50 * time.Millisecond}),
		fx.Provide(func() prometheus.Registerer { return prometheus.NewRegistry() }),
		fx.Provide(func() *zap.Logger { return zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)) }),
		jobs.ProvideWorker[slowArgs](func() *slowWorker { return w }),
		fx.Provide(jobs.New, jobs.NewRunner),
		fx.Invoke(func(*jobs.Runner) {}),
		fx.Populate(&q),
		fx.Options(extra...),
	)
	if err := app.Err(); err != nil {
		t.Fatal(err)
	}
	return app, q
}

// states counts the slow jobs by state.
func states(t *testing.T, q *jobs.Queue) map[rivertype.JobState]int {
	t.Helper()
	res, err := q.Client().JobList(context.Background(), river.NewJobListParams().Kinds("test_slow").First(10000))
	if err != nil {
		t.Fatal(err)
	}
	m := map[rivertype.JobState]int{}
	for _, j := range res.Jobs {
		m[j.State]++
	}
	return m
}

// TestGracefulStopLosesNothing: stopped under a backlog, the runner
// finishes the jobs it holds (or, past the stop budget, hands them back):
// every job is completed or still there to be worked, none is left
// running, and none was worked twice.
func TestGracefulStopLosesNothing(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		for _, c := range []struct {
			name   string
			job    time.Duration
			budget time.Duration
		}{
			{"finishes running jobs", 100 * time.Millisecond, 20 * time.Second},
			{"hands back jobs past the budget", time.Hour, 2 * time.Second},
		} {
			t.Run(c.name, func(t *testing.T) {
				w := &slowWorker{d: c.job}
				app, q := workerApp(t, db, w)
				ctx := context.Background()
				const backlog = 40
				for i := range backlog {
					if _, err := q.Enqueue(ctx, slowArgs{N: i}, nil); err != nil {
						t.Fatal(err)
					}
				}
				if err := app.Start(ctx); err != nil {
					t.Fatal(err)
				}
				for deadline := time.Now().Add(20 * time.Second); w.started.Load() < 4; time.Sleep(10 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatal("no job started within 20s")
					}
				}
				stop, cancel := context.WithTimeout(ctx, c.budget)
				defer cancel()
				if err := app.Stop(stop); err != nil {
					t.Fatalf("stop: %v", err)
				}
				got := states(t, q)
				if got[rivertype.JobStateRunning] != 0 {
					t.Errorf("%d job(s) left running: %v", got[rivertype.JobStateRunning], got)
				}
				if n := got[rivertype.JobStateCompleted]; int64(n) != w.done.Load() {
					t.Errorf("%d completed jobs, the worker finished %d", n, w.done.Load())
				}
				if sum := got[rivertype.JobStateCompleted] + got[rivertype.JobStateAvailable] + got[rivertype.JobStateRetryable]; sum != backlog {
					t.Errorf("after the stop: %v, want all %d completed or still to work", got, backlog)
				}
				// Clean up for the next case on this database.
				if _, err := db.SQL.ExecContext(ctx, "DELETE FROM river_job"); err != nil {
					t.Fatal(err)
				}
			})
		}
	})
}

// TestPeriodicJobOneLeader: two replicas on one Postgres register the
// same schedule; only the elected leader enqueues its occurrences, and
// each is worked once.
func TestPeriodicJobOneLeader(t *testing.T) {
	testkit.RequirePostgres(t)
	db := testkit.NewDB(t, "postgres")
	w := &slowWorker{d: time.Millisecond}
	var calls [2]atomic.Int64
	var apps [2]*fx.App
	var q *jobs.Queue
	for i := range apps {
		apps[i], q = workerApp(t, db, w, jobs.ProvideSchedule(jobs.Schedule{Every: 200 * time.Millisecond, RunOnStart: true, Args: func() jobs.Args {
			calls[i].Add(1)
			return slowArgs{N: i}
		}}))
		if err := apps[i].Start(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(30 * time.Second); w.done.Load() < 4; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d periodic jobs worked within 30s", w.done.Load())
		}
	}
	for _, app := range apps {
		stop, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		if err := app.Stop(stop); err != nil {
			t.Error(err)
		}
		cancel()
	}
	a, b := calls[0].Load(), calls[1].Load()
	if (a == 0) == (b == 0) {
		t.Errorf("occurrences enqueued by replica 0: %d, replica 1: %d; want one leader", a, b)
	}
	got := states(t, q)
	total := 0
	for _, n := range got {
		total += n
	}
	if int64(total) != a+b || int64(got[rivertype.JobStateCompleted]) != w.done.Load() {
		t.Errorf("%d occurrences, jobs %v, %d worked", a+b, got, w.done.Load())
	}
}
