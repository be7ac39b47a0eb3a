package jobs_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/jobs"
	"github.com/acme/monolith/platform/testkit"
	"github.com/acme/monolith/platform/txn"
)

// noopArgs is the benchmarks' kind: a worker that does nothing but count,
// so what is measured is the queue (insert, fetch, complete).
type noopArgs struct {
	N int `json:"n"`
}

func (noopArgs) Kind() string { return "bench_noop" }

type noopWorker struct {
	jobs.WorkerDefaults[noopArgs]
	worked *atomic.Int64
}

func (w *noopWorker) Work(context.Context, *jobs.Job[noopArgs]) error {
	w.worked.Add(1)
	return nil
}

// bareQueue is the queue the platform's is compared with: River's own
// client on the same database, driver, poll interval and concurrency,
// working its own queue so the two never take each other's jobs.
const bareQueue = "bench_bare"

func bareRiver(b *testing.B, db *database.DB, worked *atomic.Int64, poll time.Duration, concurrency int) *river.Client[*sql.Tx] {
	b.Helper()
	workers := river.NewWorkers()
	river.AddWorker(workers, &noopWorker{worked: worked})
	var drv riverdriver.Driver[*sql.Tx] = riversqlite.New(db.SQL)
	if db.Dialect == dialect.Postgres {
		drv = riverdatabasesql.New(db.SQL)
	}
	c, err := river.NewClient(drv, &river.Config{
		Workers:           workers,
		Queues:            map[string]river.QueueConfig{bareQueue: {MaxWorkers: concurrency}},
		PollOnly:          true,
		FetchPollInterval: poll,
		FetchCooldown:     min(100*time.Millisecond, poll),
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = c.Stop(ctx)
	})
	return c
}

// batch enqueues n jobs one by one (as n requests would) and waits until
// all of them were worked; it returns how long that took.
func batch(b *testing.B, n int, worked *atomic.Int64, enqueue func(ctx context.Context, i int) error) time.Duration {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	target := worked.Load() + int64(n)
	for i := range n {
		if err := enqueue(ctx, i); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for worked.Load() < target {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d jobs worked after 2 minutes", n-int(target-worked.Load()), n)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}

// BenchmarkThroughput: jobs per second (enqueue plus a no-op worker)
// through the platform's queue in the assembled application, and through
// a bare River client on the same database in the same run, batches
// alternating so both see the same machine. The budget is the ratio:
// platform/river at least 0.8.
//
//	go test -run '^$' -bench BenchmarkThroughput -benchtime 5x ./platform/jobs/
func BenchmarkThroughput(b *testing.B) {
	const (
		n           = 1000
		poll        = 50 * time.Millisecond
		concurrency = 100
	)
	for _, dia := range testkit.ReachableDialects(b) {
		b.Run(dia, func(b *testing.B) {
			db := testkit.NewDB(b, dia)
			var ours, bare atomic.Int64
			var q *jobs.Queue
			apptest.Start(b, db,
				testkit.WithEnv("JOBS_POLL_INTERVAL", poll.String()),
				testkit.WithEnv("JOBS_CONCURRENCY", fmt.Sprint(concurrency)),
				testkit.WithFx(
					jobs.ProvideWorker[noopArgs](func() *noopWorker { return &noopWorker{worked: &ours} }),
					fx.Invoke(func(*jobs.Runner) {}),
					fx.Populate(&q),
				))
			rc := bareRiver(b, db, &bare, poll, concurrency)
			var tOurs, tBare time.Duration
			b.ResetTimer()
			for range b.N {
				tOurs += batch(b, n, &ours, func(ctx context.Context, i int) error {
					_, err := q.Enqueue(ctx, noopArgs{N: i}, nil)
					return err
				})
				tBare += batch(b, n, &bare, func(ctx context.Context, i int) error {
					_, err := rc.Insert(ctx, noopArgs{N: i}, &river.InsertOpts{Queue: bareQueue})
					return err
				})
			}
			b.StopTimer()
			jobs := float64(n * b.N)
			b.ReportMetric(jobs/tOurs.Seconds(), "platform-jobs/s")
			b.ReportMetric(jobs/tBare.Seconds(), "river-jobs/s")
			b.ReportMetric(tBare.Seconds()/tOurs.Seconds(), "ratio")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// BenchmarkEnqueueInWrite: what an enqueue adds to a write request's
// transaction: the same ent write committed alone and with one job
// enqueued in it, alternating, reported as the ratio with/without.
//
//	go test -run '^$' -bench BenchmarkEnqueueInWrite -benchtime 200x ./platform/jobs/
func BenchmarkEnqueueInWrite(b *testing.B) {
	for _, dia := range testkit.ReachableDialects(b) {
		b.Run(dia, func(b *testing.B) {
			db := testkit.NewDB(b, dia)
			var q *jobs.Queue
			var worked atomic.Int64
			// No Runner: the jobs stay queued, so working them costs the
			// write nothing here.
			apptest.Start(b, db, testkit.WithFx(
				jobs.ProvideWorker[noopArgs](func() *noopWorker { return &noopWorker{worked: &worked} }),
				fx.Populate(&q),
			))
			ctx := context.Background()
			write := func(i int, enqueue bool) time.Duration {
				start := time.Now()
				err := txn.Run(ctx, db.Ent, func(ctx context.Context) error {
					if err := txn.Client(ctx, db.Ent).Role.Create().SetName(fmt.Sprintf("bench-%t-%d", enqueue, i)).Exec(ctx); err != nil {
						return err
					}
					if !enqueue {
						return nil
					}
					_, err := q.Enqueue(ctx, noopArgs{N: i}, nil)
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
				return time.Since(start)
			}
			var plain, with time.Duration
			b.ResetTimer()
			for i := range b.N {
				plain += write(i, false)
				with += write(i, true)
			}
			b.StopTimer()
			b.ReportMetric(float64(plain.Microseconds())/float64(b.N), "write-µs")
			b.ReportMetric(float64(with.Microseconds())/float64(b.N), "write+enqueue-µs")
			b.ReportMetric(with.Seconds()/plain.Seconds(), "ratio")
			b.ReportMetric(0, "ns/op")
		})
	}
}
