package txn_test

import (
	"context"
	"errors"
	"testing"

	"github.com/acme/monolith/ent"
	"github.com/acme/monolith/ent/role"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
	"github.com/acme/monolith/platform/txn"
)

func create(ctx context.Context, t *testing.T, c *ent.Client, name string) {
	t.Helper()
	if _, err := txn.Client(ctx, c).Role.Create().SetName(name).Save(ctx); err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
}

func exists(t *testing.T, c *ent.Client, name string) bool {
	t.Helper()
	ok, err := c.Role.Query().Where(role.Name(name)).Exist(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestRun(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		c := db.Ent
		boom := errors.New("boom")

		// Two writes and a nested Run: an error anywhere undoes all of them.
		err := txn.Run(ctx, c, func(ctx context.Context) error {
			create(ctx, t, c, "first-Zoë")
			return txn.Run(ctx, c, func(ctx context.Context) error {
				if !txn.InTx(ctx) {
					t.Error("the nested call has no transaction")
				}
				create(ctx, t, c, "second-日本")
				return boom
			})
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Run: %v", err)
		}
		if exists(t, c, "first-Zoë") || exists(t, c, "second-日本") {
			t.Fatal("a rolled-back Run left rows")
		}

		// A panic rolls back too, and still panics.
		func() {
			defer func() {
				if recover() == nil {
					t.Error("the panic was swallowed")
				}
			}()
			_ = txn.Run(ctx, c, func(ctx context.Context) error {
				create(ctx, t, c, "panicked")
				panic("boom")
			})
		}()
		if exists(t, c, "panicked") {
			t.Fatal("a panicking Run left its row")
		}

		// Inside, the transaction sees its own write; on commit everyone does.
		err = txn.Run(ctx, c, func(ctx context.Context) error {
			create(ctx, t, c, "kept")
			n, err := txn.Client(ctx, c).Role.Query().Where(role.Name("kept")).Count(ctx)
			if n != 1 {
				t.Errorf("inside: %d rows, %v", n, err)
			}
			return err
		})
		if err != nil || !exists(t, c, "kept") {
			t.Fatalf("committed Run: %v", err)
		}
		if txn.InTx(ctx) || txn.Client(ctx, c) != c {
			t.Error("outside Run the plain client is used")
		}
	})
}
