// Package jobs runs durable background jobs on the application's own
// database with River (github.com/riverqueue/river), identically on
// Postgres and SQLite. A module enqueues typed arguments (Enqueue), in
// its ent transaction when the context carries one (txn.Run), registers
// the worker of each kind (ProvideWorker) and periodic jobs
// (ProvideSchedule) through fx. River's tables are part of the
// versioned migrations (migrations/*/..._river_jobs.sql).
//
// Sharing the transaction: ent's generated Tx does not expose its
// *sql.Tx, so txn.Run catches it as the platform's driver begins it
// (database.CaptureTx) and carries it in the context (txn.SQLTx).
// River's database/sql drivers insert with that *sql.Tx: riverdatabasesql
// on Postgres (over the same pgx stdlib pool ent uses) and riversqlite on
// SQLite. So on both dialects the job row commits or rolls back with the
// stores' writes; riverpgxv5 could not, as it needs a pgx transaction.
package jobs

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"entgo.io/ent/dialect"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/exp/zapslog"

	"github.com/acme/monolith/platform/cli"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/txn"
)

// The types a module writes a job with are River's, under this package's
// names, so a module imports the platform only.
type (
	// Args are a kind's arguments: a struct with JSON tags and a Kind()
	// method naming the kind ("mail.reset", stable: it is stored).
	Args = river.JobArgs
	// Job is one job as its worker receives it (ID, Attempt, Args...).
	Job[T Args] = river.Job[T]
	// Worker works one kind. Embed WorkerDefaults and override Timeout
	// (per-kind deadline, cancelling the work's context) and NextRetry
	// (backoff) as needed.
	Worker[T Args] = river.Worker[T]
	// WorkerDefaults gives a Worker River's defaults.
	WorkerDefaults[T Args] = river.WorkerDefaults[T]
	// InsertOpts are an enqueue's options: Queue, ScheduledAt,
	// MaxAttempts, Priority, UniqueOpts. A kind's defaults come from an
	// InsertOpts() method on its Args.
	InsertOpts = river.InsertOpts
	// UniqueOpts make an enqueue a no-op while an equal job exists.
	UniqueOpts = river.UniqueOpts
	// JobRow is a job as stored.
	JobRow = rivertype.JobRow
	// InsertManyParams is one job of an EnqueueMany batch.
	InsertManyParams = river.InsertManyParams
)

// JobCancel returns an error that makes a worker's job cancelled at once
// (no retry); it stays visible as cancelled.
func JobCancel(err error) error { return river.JobCancel(err) }

// Settings are the job queue's variables.
type Settings struct {
	// Work is read by `app serve` only: `app worker` always works jobs.
	Work         bool          "env:\"JOBS_WORK\" envDefault:\"true\" doc:\"`app serve` also works jobs (false: it only enqueues them, for a web Deployment beside `app worker` processes, which always work jobs)\""
	Concurrency  int           `env:"JOBS_CONCURRENCY" envDefault:"10" min:"1" max:"10000" doc:"jobs worked at once by this process"`
	PollInterval time.Duration `env:"JOBS_POLL_INTERVAL" envDefault:"1s" min:"50ms" max:"1m" doc:"how often a worker looks for new jobs (polling works through PgBouncer; it bounds a job's start latency)"`
	Timeout      time.Duration `env:"JOBS_TIMEOUT" envDefault:"1m" min:"1s" max:"24h" doc:"a job's deadline (its context is cancelled) unless its kind's worker sets its own with a Timeout method"`
	RescueGrace  time.Duration `env:"JOBS_RESCUE_GRACE" envDefault:"30s" min:"1s" max:"1h" doc:"how long past its deadline a job still marked running is taken as abandoned by a dead process (SIGKILL, lost node) and retried; River's rescuer looks every 30s"`
	// ShutdownTimeout bounds the stop: past it, running jobs are handed
	// back to the queue instead of finished.
	ShutdownTimeout time.Duration `env:"JOBS_SHUTDOWN_TIMEOUT" envDefault:"20s" min:"1s" max:"1h" doc:"on SIGTERM, how long running jobs may finish before the rest are handed back to the queue (available again, attempt not counted) for another process"`
}

// Module provides the queue (Queue) and the worker runner (Runner).
// Building the queue starts nothing: only a process that asks for the
// Runner (serve) works jobs.
var Module = fx.Options(
	config.Provide[Settings]("jobs", "background jobs (River, on the application database)"),
	fx.Provide(New, NewRunner),
	cli.Provide(command),
)

// group is the fx value group of what modules contribute: workers and
// schedules, in one group so the module picture shows one node for jobs.
const group = "jobs"

// Registration is a worker or a schedule, as ProvideWorker and
// ProvideSchedule contribute them.
type Registration interface {
	apply(*setup) error
}

type setup struct {
	workers   *river.Workers
	schedules []Schedule
	// timeout is the deadline of a kind without its own, grace how long
	// past a deadline a running job is taken for abandoned.
	timeout, grace time.Duration
}

type registration[T Args] struct{ w Worker[T] }

// RegistrationOf is w as ProvideWorker registers it, for building a Queue
// with New outside fx (tests, tools).
func RegistrationOf[T Args](w Worker[T]) Registration { return registration[T]{w} }

func (r registration[T]) apply(s *setup) error {
	return river.AddWorkerSafely[T](s.workers, graced[T]{Worker: r.w, timeout: s.timeout, grace: s.grace})
}

// graced is a worker as River runs it. River's rescuer retries a job
// still running past both RescueStuckJobsAfter and its kind's Timeout:
// graced reports the kind's deadline plus the grace to River and
// enforces the deadline itself, so every kind, with its own timeout or
// the default, is rescued one grace after its deadline, never while it
// may still be winding down. A kind without a deadline (-1) is never
// rescued: only `app jobs retry` moves it.
type graced[T Args] struct {
	Worker[T]
	timeout, grace time.Duration
}

func (g graced[T]) deadline(j *Job[T]) time.Duration {
	if d := g.Worker.Timeout(j); d != 0 {
		return d
	}
	return g.timeout
}

func (g graced[T]) Timeout(j *Job[T]) time.Duration {
	d := g.deadline(j)
	if d < 0 {
		return d
	}
	return d + g.grace
}

func (g graced[T]) Work(ctx context.Context, j *Job[T]) error {
	if d := g.deadline(j); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	return g.Worker.Work(ctx, j)
}

// ProvideWorker registers the worker of kind T: ctor is an fx constructor
// returning a type that implements Worker[T] (and optionally an error).
// Two workers of one kind fail the start.
func ProvideWorker[T Args](ctor any) fx.Option {
	return fx.Provide(
		fx.Annotate(ctor, fx.As(new(Worker[T]))),
		fx.Annotate(func(w Worker[T]) Registration { return registration[T]{w} }, fx.ResultTags(`group:"`+group+`"`)),
	)
}

// Schedule is a periodic job: Args is called at each occurrence for the
// job to enqueue. River's elected leader enqueues it, so with several
// replicas each occurrence runs once.
type Schedule struct {
	Every      time.Duration
	Args       func() Args
	Opts       *InsertOpts
	RunOnStart bool // also at the leader's start, not only after Every
}

func (s Schedule) apply(st *setup) error {
	if s.Every <= 0 || s.Args == nil {
		return errors.New("a Schedule needs a positive Every and an Args function")
	}
	st.schedules = append(st.schedules, s)
	return nil
}

// ProvideSchedule registers a periodic job.
func ProvideSchedule(s Schedule) fx.Option {
	return fx.Provide(fx.Annotate(func() Registration { return s }, fx.ResultTags(`group:"`+group+`"`)))
}

// Queue enqueues jobs and reads them.
type Queue struct {
	client   *river.Client[*sql.Tx]
	settings Settings
	log      *zap.Logger
	metrics  *metrics
}

// Params are what New needs.
type Params struct {
	fx.In
	DB       *database.DB
	Settings Settings
	Log      *zap.Logger
	Metrics  prometheus.Registerer
	// Registrations are the workers and schedules (group "jobs").
	Registrations []Registration `group:"jobs"`
}

// New builds the River client. It connects to nothing until it is used
// or started.
func New(p Params) (*Queue, error) {
	log := p.Log.Named("jobs")
	m, err := newMetrics(p.Metrics)
	if err != nil {
		return nil, err
	}
	// A Settings literal (tests, tools) without them gets the defaults.
	timeout, grace := cmp.Or(p.Settings.Timeout, river.JobTimeoutDefault), cmp.Or(p.Settings.RescueGrace, 30*time.Second)
	st := &setup{workers: river.NewWorkers(), timeout: timeout, grace: grace}
	for _, r := range p.Registrations {
		if err := r.apply(st); err != nil {
			return nil, fmt.Errorf("jobs: register: %w", err)
		}
	}
	workers := st.workers
	cfg := &river.Config{
		Logger:  slog.New(zapslog.NewHandler(log.Core())),
		Workers: workers,
		// No LISTEN: the poll works through a transaction pooler
		// (PgBouncer). A direct listener could replace it by building the
		// Postgres driver with riverdatabasesql.NewWithPgxListener.
		PollOnly:          true,
		FetchPollInterval: p.Settings.PollInterval,
		FetchCooldown:     min(100*time.Millisecond, p.Settings.PollInterval),
		// Kinds not registered in this binary are refused at enqueue.
		SkipUnknownJobCheck: false,
		// A job whose process died (SIGKILL, lost node) stays running
		// until the leader's rescuer retries it: one grace past its
		// deadline (graced), instead of River's default hour.
		JobTimeout:           timeout + grace,
		RescueStuckJobsAfter: timeout + grace,
	}
	if p.Settings.Work {
		cfg.Queues = map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: p.Settings.Concurrency}}
		for _, s := range st.schedules {
			cfg.PeriodicJobs = append(cfg.PeriodicJobs, river.NewPeriodicJob(river.PeriodicInterval(s.Every),
				func() (river.JobArgs, *river.InsertOpts) { return s.Args(), s.Opts },
				&river.PeriodicJobOpts{RunOnStart: s.RunOnStart}))
		}
	}
	client, err := river.NewClient(driver(p.DB), cfg)
	if err != nil {
		return nil, fmt.Errorf("jobs: %w", err)
	}
	return &Queue{client: client, settings: p.Settings, log: log, metrics: m}, nil
}

// driver chooses River's driver for the pool: both work on the same
// *sql.DB as ent, which is what lets an enqueue join ent's transaction.
func driver(db *database.DB) riverdriver.Driver[*sql.Tx] {
	if db.Dialect == dialect.Postgres {
		return riverdatabasesql.New(db.SQL)
	}
	return riversqlite.New(db.SQL)
}

// Enqueue inserts a job of args's kind. Inside txn.Run it joins that
// transaction: the job exists only if the transaction commits. opts may
// be nil.
func (q *Queue) Enqueue(ctx context.Context, args Args, opts *InsertOpts) (*JobRow, error) {
	var (
		res *rivertype.JobInsertResult
		err error
	)
	if txn.InTx(ctx) {
		tx, ok := txn.SQLTx(ctx)
		if !ok {
			// Never enqueue beside a transaction the job should be part of.
			return nil, fmt.Errorf("enqueue %s: the context's transaction was not begun by txn.Run on the platform's database", args.Kind())
		}
		res, err = q.client.InsertTx(ctx, tx, args, opts)
	} else {
		res, err = q.client.Insert(ctx, args, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("enqueue %s: %w", args.Kind(), err)
	}
	if !res.UniqueSkippedAsDuplicate {
		q.metrics.enqueued.WithLabelValues(args.Kind()).Inc()
	}
	return res.Job, nil
}

// EnqueueMany inserts several jobs at once, all or none, joining the
// context's transaction as Enqueue does. River's batch insert is one
// statement, so a fan-out costs one round trip whatever its size.
func (q *Queue) EnqueueMany(ctx context.Context, batch []InsertManyParams) ([]*JobRow, error) {
	if len(batch) == 0 {
		return nil, nil
	}
	var (
		res []*rivertype.JobInsertResult
		err error
	)
	if txn.InTx(ctx) {
		tx, ok := txn.SQLTx(ctx)
		if !ok {
			return nil, fmt.Errorf("enqueue %d jobs: the context's transaction was not begun by txn.Run on the platform's database", len(batch))
		}
		res, err = q.client.InsertManyTx(ctx, tx, batch)
	} else {
		res, err = q.client.InsertMany(ctx, batch)
	}
	if err != nil {
		return nil, fmt.Errorf("enqueue %d jobs: %w", len(batch), err)
	}
	rows := make([]*JobRow, 0, len(res))
	for _, r := range res {
		if !r.UniqueSkippedAsDuplicate {
			q.metrics.enqueued.WithLabelValues(r.Job.Kind).Inc()
		}
		rows = append(rows, r.Job)
	}
	return rows, nil
}

// Get returns one job.
func (q *Queue) Get(ctx context.Context, id int64) (*JobRow, error) {
	j, err := q.client.JobGet(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("get job %d: %w", id, err)
	}
	return j, nil
}

// Client is the River client, for the platform's operations tooling
// (listing, retrying and cancelling jobs) and tests.
func (q *Queue) Client() *river.Client[*sql.Tx] { return q.client }

// Runner works jobs while the application runs: in `app worker`, and in
// `app serve` when JOBS_WORK says so.
type Runner struct {
	q           *Queue
	unsubscribe func()
	observed    chan struct{}
}

// NewRunner starts the workers after the database is ready: its hook is
// appended after the database's (which pings and migrates), because it
// depends on the queue, which depends on the database. On stop it stops
// fetching and lets running jobs finish for most of JOBS_SHUTDOWN_TIMEOUT
// (or of the stop budget, if shorter), then
// cancels what still runs: River returns those to available (attempt
// undone) for another replica, so a graceful stop loses no job.
func NewRunner(lc fx.Lifecycle, q *Queue) *Runner {
	r := &Runner{q: q}
	if !q.settings.Work {
		return r
	}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			events, unsubscribe := q.client.Subscribe(observedEvents...)
			r.observed = make(chan struct{})
			r.unsubscribe = unsubscribe
			go func() {
				defer close(r.observed)
				for e := range events {
					q.metrics.observe(e)
				}
			}()
			// Not the start context: ending Start's context stops River hard.
			if err := q.client.Start(context.Background()); err != nil {
				return fmt.Errorf("jobs: start workers: %w", err)
			}
			q.log.Info("working jobs", zap.Int("concurrency", q.settings.Concurrency), zap.Duration("poll_interval", q.settings.PollInterval))
			return nil
		},
		OnStop: func(ctx context.Context) error {
			if d := q.settings.ShutdownTimeout; d > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, d)
				defer cancel()
			}
			defer func() {
				r.unsubscribe()
				<-r.observed
			}()
			soft, cancel := softDeadline(ctx)
			defer cancel()
			err := q.client.Stop(soft)
			if err == nil {
				return nil
			}
			q.log.Warn("jobs still running at the stop deadline: cancelling them", zap.Error(err))
			if err := q.client.StopAndCancel(ctx); err != nil {
				return fmt.Errorf("jobs: stop workers: %w", err)
			}
			return nil
		},
	})
	return r
}

// softDeadline leaves a fifth of the remaining stop budget (at least a
// second when there is one) for cancelling the jobs still running.
func softDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	d, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	left := time.Until(d)
	return context.WithTimeout(ctx, left-max(left/5, min(time.Second, left/2)))
}

// Redact replaces the stored arguments of job id with args. River keeps a
// finished job (completed ones for a day); a worker whose arguments are
// confidential calls it once their work is done, so that what stays is
// args (a marker, not the content). It writes River's table directly:
// River has no call that edits a job's arguments.
func Redact(ctx context.Context, db *database.DB, id int64, args Args) error {
	b, err := json.Marshal(args)
	if err != nil {
		return fmt.Errorf("redact job %d: %w", id, err)
	}
	query := "UPDATE river_job SET args = $1::jsonb WHERE id = $2"
	if db.Dialect == dialect.SQLite {
		// River's SQLite schema keeps args as JSONB, as its driver writes it.
		query = "UPDATE river_job SET args = jsonb(?) WHERE id = ?"
	}
	if _, err := db.SQL.ExecContext(ctx, query, string(b), id); err != nil {
		return fmt.Errorf("redact job %d: %w", id, err)
	}
	return nil
}
