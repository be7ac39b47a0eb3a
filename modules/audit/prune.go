package audit

import (
	"context"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/acme/monolith/modules/audit/auditsvc"
	"github.com/acme/monolith/platform/jobs"
)

// PruneArgs is the hourly job that deletes entries older than
// AUDIT_RETENTION.
type PruneArgs struct{}

// Kind implements jobs.Args.
func (PruneArgs) Kind() string { return "audit_prune" }

type pruneWorker struct {
	jobs.WorkerDefaults[PruneArgs]
	svc *auditsvc.Service
	log *zap.Logger
}

func (w *pruneWorker) Work(ctx context.Context, _ *jobs.Job[PruneArgs]) error {
	n, err := w.svc.Prune(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		w.log.Info("pruned audit log", zap.Int("entries", n))
	}
	return nil
}

// Timeout bounds one prune: a first prune of a long-kept log deletes
// many rows.
func (*pruneWorker) Timeout(*jobs.Job[PruneArgs]) time.Duration { return 10 * time.Minute }

// pruning registers the worker and its hourly schedule: one replica
// prunes each occurrence (River's leader enqueues it), retried if it fails.
var pruning = fx.Options(
	jobs.ProvideWorker[PruneArgs](func(svc *auditsvc.Service, log *zap.Logger) *pruneWorker {
		return &pruneWorker{svc: svc, log: log.Named("audit")}
	}),
	jobs.ProvideSchedule(jobs.Schedule{
		Every:      time.Hour,
		Args:       func() jobs.Args { return PruneArgs{} },
		Opts:       &jobs.InsertOpts{MaxAttempts: 5},
		RunOnStart: true,
	}),
)
