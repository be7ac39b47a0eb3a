// Package txn carries one database transaction through a context, so that
// the writes of a service's operation and what it appends beside them (an
// audit entry, a job, an event) commit or roll back together, though each
// is written by a different store.
package txn

import (
	"context"
	"fmt"

	"github.com/acme/monolith/ent"
)

// Run runs fn in a transaction on client and commits it if fn returns
// nil; otherwise (or if fn panics) it rolls back. The context fn receives
// carries the transaction: stores that take their client with Client
// write in it, and a Run inside fn joins it instead of starting another.
func Run(ctx context.Context, client *ent.Client, fn func(ctx context.Context) error) (err error) {
	if ent.TxFromContext(ctx) != nil {
		return fn(ctx)
	}
	tx, err := client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() {
		if v := recover(); v != nil {
			_ = tx.Rollback()
			panic(v)
		}
	}()
	if err := fn(ent.NewTxContext(ctx, tx)); err != nil {
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
