package throttle

import (
	"context"
	"time"

	"go.uber.org/zap"
)

// PruneEvery is how often each replica deletes the counters whose window
// has ended. Deleting is idempotent, so every replica may do it; the table
// holds only windows that are still running, plus at most this much.
const PruneEvery = time.Minute

// StartPruning prunes now and then every PruneEvery in the background,
// until the returned stop is called (which waits for a prune in progress).
func (l *Limiter) StartPruning(log *zap.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(PruneEvery)
		defer t.Stop()
		for {
			n, err := l.Prune(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Warn("prune throttle counters", zap.Error(err))
			case n > 0:
				log.Debug("pruned throttle counters", zap.Int64("rows", n))
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
