package authsvc

import (
	"context"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// PruneStore deletes dead rows.
type PruneStore interface {
	Prune(ctx context.Context, now, cutoff time.Time) (int, error)
}

// Pruner deletes expired and revoked sessions, their refresh tokens and
// expired reset tokens, so the tables stay proportional to live use. The
// module runs it as a periodic job: once per occurrence across replicas,
// retried when it fails.
type Pruner struct {
	store     PruneStore
	log       *zap.Logger
	retention time.Duration
}

// NewPruner returns a pruner that keeps dead sessions for retention (they
// remain visible to an audit for that long).
func NewPruner(store PruneStore, log *zap.Logger, retention time.Duration) *Pruner {
	return &Pruner{store: store, log: log, retention: retention}
}

// Prune deletes now what is dead; an error leaves it to the next attempt.
func (p *Pruner) Prune(ctx context.Context) error {
	now := time.Now().UTC()
	n, err := p.store.Prune(ctx, now, now.Add(-p.retention))
	if err != nil {
		return fmt.Errorf("prune auth tables: %w", err)
	}
	if n > 0 {
		p.log.Info("pruned dead sessions", zap.Int("sessions", n))
	}
	return nil
}
