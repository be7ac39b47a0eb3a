package auditstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/acme/monolith/modules/audit/auditstore"
	"github.com/acme/monolith/modules/audit/auditsvc"
	"github.com/acme/monolith/platform/audit"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/paging"
	"github.com/acme/monolith/platform/testkit"
	"github.com/acme/monolith/platform/txn"
)

// TestPruneKeepsTheRetention: entries older than the retention go, the
// rest stay, on both databases.
func TestPruneKeepsTheRetention(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		now := time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)
		svc := auditsvc.New(auditstore.New(db.Ent), auditsvc.Options{Retention: 30 * 24 * time.Hour, Now: func() time.Time { return now }})
		for _, age := range []time.Duration{0, 29 * 24 * time.Hour, 31 * 24 * time.Hour, 400 * 24 * time.Hour} {
			e := audit.Entry{Time: now.Add(-age), Actor: audit.System, Action: "test.aged", Target: audit.Target{Type: "thing"},
				Payload: audit.Payload{"age": age.String()}}
			if err := svc.Record(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		n, err := svc.Prune(ctx)
		if err != nil || n != 2 {
			t.Fatalf("Prune = %d, %v; want 2", n, err)
		}
		l, err := svc.List(ctx, auditsvc.Filter{}, paging.Request{Limit: 10})
		if err != nil || len(l.Items) != 2 || l.Items[0].Payload["age"] != "0s" || l.Items[1].Payload["age"] != (29*24*time.Hour).String() {
			t.Fatalf("kept: %+v %v", l.Items, err)
		}
		if n, _ := svc.Prune(ctx); n != 0 {
			t.Fatalf("a second prune deleted %d", n)
		}
	})
}

// TestRecordJoinsTheTransaction: an entry recorded inside txn.Run is
// gone when the transaction rolls back, and kept when it commits.
func TestRecordJoinsTheTransaction(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		svc := auditsvc.New(auditstore.New(db.Ent), auditsvc.Options{Retention: time.Hour})
		boom := errors.New("boom")
		e := audit.Entry{Actor: audit.System, Action: "test.joined", Target: audit.Target{Type: "thing"}, Payload: audit.Payload{"text": "Zoë 日本 👩‍💻"}}
		err := txn.Run(ctx, db.Ent, func(ctx context.Context) error {
			if err := svc.Record(ctx, e); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if l, _ := svc.List(ctx, auditsvc.Filter{}, paging.Request{Limit: 10}); len(l.Items) != 0 {
			t.Fatalf("a rolled-back entry stayed: %+v", l.Items)
		}
		if err := txn.Run(ctx, db.Ent, func(ctx context.Context) error { return svc.Record(ctx, e) }); err != nil {
			t.Fatal(err)
		}
		l, _ := svc.List(ctx, auditsvc.Filter{}, paging.Request{Limit: 10})
		if len(l.Items) != 1 || l.Items[0].Payload["text"] != "Zoë 日本 👩‍💻" {
			t.Fatalf("committed: %+v", l.Items)
		}
		// An invalid entry is refused before any write.
		bad := e
		bad.Payload = audit.Payload{"password": "hunter2"}
		if err := svc.Record(ctx, bad); !errors.Is(err, audit.ErrInvalid) {
			t.Fatalf("Record of a password = %v", err)
		}
	})
}
