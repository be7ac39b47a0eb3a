package database

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestLateAnswerKeepsItsMeaning: when the query deadline has passed but
// the database did answer (a unique violation that arrived just late),
// the answer is kept, so it still maps to its domain error; what the
// deadline cut short is ErrUnavailable.
func TestLateAnswerKeepsItsMeaning(t *testing.T) {
	ctx, cancel := context.WithTimeoutCause(context.Background(), time.Nanosecond, errQueryTimeout)
	defer cancel()
	<-ctx.Done()
	parent := context.Background()

	dup := &pgconn.PgError{Code: "23505", Message: "duplicate key value violates unique constraint"}
	if err := classifyCall(ctx, parent, dup); errors.Is(err, ErrUnavailable) || !errors.Is(err, dup) {
		t.Errorf("a late unique violation became %v", err)
	}
	for _, cut := range []error{context.DeadlineExceeded, errQueryTimeout, &pgconn.PgError{Code: "57014"}} {
		if err := classifyCall(ctx, parent, cut); !errors.Is(err, ErrUnavailable) {
			t.Errorf("%v after the deadline: %v, want ErrUnavailable", cut, err)
		}
	}
}
