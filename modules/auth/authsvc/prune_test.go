package authsvc

import (
	"context"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"
)

// pruneCall records what the pruner asked the store.
type pruneCall struct{ now, cutoff time.Time }

type recordingPrune struct{ calls []pruneCall }

func (p *recordingPrune) Prune(_ context.Context, now, cutoff time.Time) (int, error) {
	p.calls = append(p.calls, pruneCall{now, cutoff})
	return 0, nil
}

// TestPruneKeepsDeadSessionsForTheRetention: dead sessions stay visible to
// an audit for the retention, so the cutoff the store deletes before is
// that long before now.
func TestPruneKeepsDeadSessionsForTheRetention(t *testing.T) {
	store := &recordingPrune{}
	p := NewPruner(store, zaptest.NewLogger(t), 7*24*time.Hour)
	if err := p.Prune(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(store.calls) != 1 || store.calls[0].now.Sub(store.calls[0].cutoff) != 7*24*time.Hour {
		t.Fatalf("calls %+v", store.calls)
	}
}
