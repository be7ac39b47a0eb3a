package authsvc

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// PruneStore deletes dead rows.
type PruneStore interface {
	Prune(ctx context.Context, now, cutoff time.Time) (int, error)
}

// Pruner periodically deletes expired and revoked sessions, their refresh
// tokens and expired reset tokens, so the tables
// stay proportional to live use. Every replica may run it: deletes are
// idempotent.
type Pruner struct {
	store     PruneStore
	log       *zap.Logger
	retention time.Duration
	stop      context.CancelFunc
	done      chan struct{}
}

// pruneEvery is the interval between prunes.
const pruneEvery = time.Hour

// NewPruner returns a pruner that keeps dead sessions for retention (they
// remain visible to an audit for that long).
func NewPruner(store PruneStore, log *zap.Logger, retention time.Duration) *Pruner {
	return &Pruner{store: store, log: log, retention: retention}
}

// Start runs the loop in the background.
func (p *Pruner) Start(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.stop, p.done = cancel, make(chan struct{})
	go func() {
		defer close(p.done)
		t := time.NewTicker(pruneEvery)
		defer t.Stop()
		for {
			p.RunOnce(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return nil
}

// Stop ends the loop and waits for it.
func (p *Pruner) Stop(ctx context.Context) error {
	if p.stop == nil {
		return nil
	}
	p.stop()
	select {
	case <-p.done:
	case <-ctx.Done():
	}
	return nil
}

// RunOnce prunes now.
func (p *Pruner) RunOnce(ctx context.Context) {
	now := time.Now().UTC()
	n, err := p.store.Prune(ctx, now, now.Add(-p.retention))
	switch {
	case err != nil && ctx.Err() == nil:
		p.log.Warn("prune auth tables", zap.Error(err))
	case n > 0:
		p.log.Info("pruned dead sessions", zap.Int("sessions", n))
	}
}
