// Package txn carries one database transaction through a context, so that
// the writes of a service's operation and what it appends beside them (an
// audit entry, a job, an event) commit or roll back together, though each
// is written by a different store.
package txn

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/acme/monolith/ent"
	"github.com/acme/monolith/platform/database"
)

// Run runs fn in a transaction on client and commits it if fn returns
// nil; otherwise (or if fn panics) it rolls back. The context fn receives
// carries the transaction: stores that take their client with Client
// write in it, and a Run inside fn joins it instead of starting another.
func Run(ctx context.Context, client *ent.Client, fn func(ctx context.Context) error) (err error) {
	if ent.TxFromContext(ctx) != nil {
		return fn(ctx)
	}
	begin, sqlTx := database.CaptureTx(ctx)
	tx, err := client.Tx(begin)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if v := recover(); v != nil {
			_ = tx.Rollback()
			panic(v)
		}
	}()
	ctx = ent.NewTxContext(ctx, tx)
	if raw := sqlTx(); raw != nil {
		ctx = context.WithValue(ctx, sqlTxKey{}, raw)
	}
	if err := fn(ctx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Client is the client a store uses for one call: the transaction's when
// ctx carries one (from Run), otherwise client itself.
func Client(ctx context.Context, client *ent.Client) *ent.Client {
	if tx := ent.TxFromContext(ctx); tx != nil {
		return tx.Client()
	}
	return client
}

// InTx reports whether ctx carries a transaction.
func InTx(ctx context.Context) bool { return ent.TxFromContext(ctx) != nil }

type sqlTxKey struct{}

// SQLTx is the database/sql transaction under the ent transaction ctx
// carries, for a library that writes through database/sql (the job
// queue) and must commit or roll back with the stores' writes. It is
// absent outside Run, or when the client's driver is not the platform's.
func SQLTx(ctx context.Context) (*sql.Tx, bool) {
	tx, ok := ctx.Value(sqlTxKey{}).(*sql.Tx)
	return tx, ok && ent.TxFromContext(ctx) != nil
}
