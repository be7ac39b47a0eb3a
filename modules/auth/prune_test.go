package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/jobs"
	"github.com/acme/monolith/platform/testkit"
)

// TestPruneIsAPeriodicJob: a process that works jobs prunes the auth
// tables as the auth_prune job, at its start and hourly after.
func TestPruneIsAPeriodicJob(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		var q *jobs.Queue
		apptest.Start(t, db, testkit.WithEnv("JOBS_POLL_INTERVAL", "50ms"),
			testkit.WithFx(fx.Invoke(func(*jobs.Runner) {}), fx.Populate(&q)))
		params := river.NewJobListParams().Kinds("auth_prune").States(rivertype.JobStateCompleted)
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			res, err := q.Client().JobList(context.Background(), params)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Jobs) == 1 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d completed auth_prune jobs after 30s, want 1", len(res.Jobs))
			}
		}
	})
}
