package testkit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/acme/monolith/platform/testkit"
)

// TestFaultProxy: a frozen proxy answers nothing (a query fails only when
// its context ends), a thawed one forwards again, a cut one fails at once.
func TestFaultProxy(t *testing.T) {
	db, px := testkit.NewFaultyPostgres(t, 2)
	ping := func(d time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		return db.SQL.PingContext(ctx)
	}
	if err := ping(5 * time.Second); err != nil {
		t.Fatalf("control: %v", err)
	}
	px.Freeze()
	// No answer comes: the ping fails when its context ends (pgx then
	// reports the connection as bad), it never succeeds.
	if err := ping(300 * time.Millisecond); err == nil {
		t.Fatal("frozen: the ping succeeded")
	}
	px.Restore()
	if err := ping(5 * time.Second); err != nil {
		t.Fatalf("thawed: %v", err)
	}
	px.Cut()
	if err := ping(5 * time.Second); err == nil || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("cut: %v, want a connection error before the deadline", err)
	}
}
