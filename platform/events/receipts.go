package events

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/acme/monolith/ent"
	"github.com/acme/monolith/ent/eventreceipt"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/jobs"
)

// receiptRetention is how long a handled delivery is remembered. A
// delivery is worked again only shortly after it was handled (its job
// rescued after a crash, or a replay by an operator), well within a week.
const receiptRetention = 7 * 24 * time.Hour

// receipts records handled deliveries in event_receipts.
type receipts struct {
	client *ent.Client
	now    func() time.Time
}

func newReceipts(db *database.DB) *receipts { return &receipts{client: db.Ent, now: time.Now} }

func (r *receipts) seen(ctx context.Context, id string) (bool, error) {
	ok, err := r.client.EventReceipt.Query().Where(eventreceipt.ID(id)).Exist(ctx)
	if err != nil {
		return false, fmt.Errorf("read receipt: %w", err)
	}
	return ok, nil
}

// record remembers id; a receipt already there (two workers finishing
// the same delivery) is not an error.
func (r *receipts) record(ctx context.Context, id, subscription string) error {
	err := r.client.EventReceipt.Create().SetID(id).SetSubscription(subscription).
		SetHandledAt(r.now().UTC().Truncate(time.Microsecond)).Exec(ctx)
	if err != nil && !ent.IsConstraintError(err) {
		return fmt.Errorf("record receipt: %w", err)
	}
	return nil
}

// prune deletes the receipts older than the retention.
func (r *receipts) prune(ctx context.Context) (int, error) {
	n, err := r.client.EventReceipt.Delete().Where(eventreceipt.HandledAtLT(r.now().Add(-receiptRetention))).Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("prune receipts: %w", err)
	}
	return n, nil
}

// pruneArgs is the daily job that forgets old receipts.
type pruneArgs struct{}

// Kind implements jobs.Args.
func (pruneArgs) Kind() string { return "event_receipts_prune" }

type pruneWorker struct {
	jobs.WorkerDefaults[pruneArgs]
	receipts *receipts
	log      *zap.Logger
}

func (w *pruneWorker) Work(ctx context.Context, _ *jobs.Job[pruneArgs]) error {
	n, err := w.receipts.prune(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		w.log.Info("pruned event receipts", zap.Int("receipts", n))
	}
	return nil
}

var pruning = fx.Options(
	jobs.ProvideWorker[pruneArgs](func(r *receipts, log *zap.Logger) *pruneWorker {
		return &pruneWorker{receipts: r, log: log.Named("events")}
	}),
	jobs.ProvideSchedule(jobs.Schedule{
		Every: 24 * time.Hour,
		Args:  func() jobs.Args { return pruneArgs{} },
		Opts:  &jobs.InsertOpts{MaxAttempts: 5},
	}),
)
