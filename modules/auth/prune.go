package auth

import (
	"context"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/acme/monolith/modules/auth/authstore"
	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/jobs"
)

// PruneArgs is the hourly job that deletes dead sessions and reset tokens;
// dead sessions are kept for a week first, for audit.
type PruneArgs struct{}

// Kind implements jobs.Args.
func (PruneArgs) Kind() string { return "auth_prune" }

// pruneEvery is the interval between prunes.
const pruneEvery = time.Hour

type pruneWorker struct {
	jobs.WorkerDefaults[PruneArgs]
	p *authsvc.Pruner
}

func (w *pruneWorker) Work(ctx context.Context, _ *jobs.Job[PruneArgs]) error { return w.p.Prune(ctx) }

// Timeout bounds one prune; deleting a backlog in one statement on a big
// table is slower than River's default minute.
func (*pruneWorker) Timeout(*jobs.Job[PruneArgs]) time.Duration { return 10 * time.Minute }

// pruning registers the prune's worker and its schedule: River's leader
// enqueues each occurrence, so one replica prunes (the deletes are
// idempotent anyway), and a failed prune is retried.
var pruning = fx.Options(
	jobs.ProvideWorker[PruneArgs](func(s *authstore.Store, log *zap.Logger) *pruneWorker {
		return &pruneWorker{p: authsvc.NewPruner(s, log.Named("auth"), 7*24*time.Hour)}
	}),
	jobs.ProvideSchedule(jobs.Schedule{
		Every:      pruneEvery,
		Args:       func() jobs.Args { return PruneArgs{} },
		Opts:       &jobs.InsertOpts{MaxAttempts: 5},
		RunOnStart: true,
	}),
)
