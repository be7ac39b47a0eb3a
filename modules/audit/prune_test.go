package audit_test

import (
	"context"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/ent/auditevent"
	"github.com/acme/monolith/modules/audit/auditstore"
	"github.com/acme/monolith/modules/audit/auditsvc"
	platformaudit "github.com/acme/monolith/platform/audit"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/jobs"
	"github.com/acme/monolith/platform/testkit"
)

// TestPruneIsAPeriodicJob: a process that works jobs deletes the entries
// older than AUDIT_RETENTION as the audit_prune job, at its start, and
// keeps the younger ones.
func TestPruneIsAPeriodicJob(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		// Written before the app starts, as if by an earlier release.
		old := auditsvc.New(auditstore.New(db.Ent), auditsvc.Options{Retention: 24 * time.Hour})
		for _, age := range []time.Duration{time.Hour, 48 * time.Hour} {
			e := platformaudit.Entry{Time: time.Now().Add(-age), Actor: platformaudit.System, Action: "test.aged",
				Target: platformaudit.Target{Type: "thing"}, Payload: platformaudit.Payload{"age": age.String()}}
			if err := old.Record(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		apptest.Start(t, db, testkit.WithEnv("JOBS_POLL_INTERVAL", "50ms"), testkit.WithEnv("AUDIT_RETENTION", "24h"),
			testkit.WithFx(fx.Invoke(func(*jobs.Runner) {})))
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			left, err := db.Ent.AuditEvent.Query().Where(auditevent.Action("test.aged")).Count(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if left == 1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d aged entries after 30s, want the one within the retention", left)
			}
		}
		kept, err := db.Ent.AuditEvent.Query().Where(auditevent.Action("test.aged")).Only(ctx)
		if err != nil || kept.Payload["age"] != time.Hour.String() {
			t.Fatalf("kept %+v %v", kept, err)
		}
	})
}
