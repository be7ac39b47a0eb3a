package auditsvc

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// Pruner deletes entries older than the retention, hourly, in the
// background, the way the auth module prunes dead sessions. Every replica
// may run it: deletes are idempotent. (It is the place a periodic job
// replaces once the application has them; Service.Prune is the work.)
type Pruner struct {
	svc  *Service
	log  *zap.Logger
	stop context.CancelFunc
	done chan struct{}
}

// pruneEvery is the interval between prunes.
const pruneEvery = time.Hour

// NewPruner returns a pruner of svc's log.
func NewPruner(svc *Service, log *zap.Logger) *Pruner { return &Pruner{svc: svc, log: log} }

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
	n, err := p.svc.Prune(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		p.log.Warn("prune audit log", zap.Error(err))
	case n > 0:
		p.log.Info("pruned audit log", zap.Int("entries", n))
	}
}
