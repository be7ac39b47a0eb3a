package appcmd

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/jobs"
	"github.com/acme/monolith/platform/testkit"
)

type cliArgs struct {
	Note string `json:"note"`
}

func (cliArgs) Kind() string { return "test_cli" }

type cliWorker struct{ jobs.WorkerDefaults[cliArgs] }

func (cliWorker) Work(context.Context, *jobs.Job[cliArgs]) error { return nil }

// TestJobsCommands: `app jobs` lists jobs, cancels one and makes it
// available again; a bad id is refused before anything is built.
func TestJobsCommands(t *testing.T) {
	url := testkit.NewDatabaseURL(t, dialect.SQLite)
	env := baseEnv(t, url)
	if out, err := run(t, env, "", "jobs", "list"); err != nil || !strings.Contains(out, "ID  KIND") {
		t.Fatalf("list on an empty queue: %v\n%s", err, out)
	}
	db, err := database.Open(config.Database{URL: url, MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q, err := jobs.New(jobs.Params{DB: db, Settings: jobs.Settings{PollInterval: time.Second}, Log: zap.NewNop(), Metrics: prometheus.NewRegistry(),
		Registrations: []jobs.Registration{jobs.RegistrationOf[cliArgs](cliWorker{})}})
	if err != nil {
		t.Fatal(err)
	}
	j, err := q.Enqueue(context.Background(), cliArgs{Note: "später"}, &jobs.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprint(j.ID)
	for _, c := range []struct {
		want string
		args []string
	}{
		{id + "   test_cli  scheduled", []string{"jobs", "list", "--kind", "test_cli"}},
		{"job " + id + " (test_cli) is cancelled", []string{"jobs", "cancel", id}},
		{"cancelled", []string{"jobs", "list", "--state", "cancelled"}},
		{"job " + id + " (test_cli) is available", []string{"jobs", "retry", id}},
	} {
		if out, err := run(t, env, "", c.args...); err != nil || !strings.Contains(out, c.want) {
			t.Errorf("%v: %v\n%s (want %q)", c.args, err, out, c.want)
		}
	}
	for _, bad := range []string{"0", "x", "1.5", "١"} {
		if _, err := run(t, env, "", "jobs", "retry", bad); err == nil || !strings.Contains(err.Error(), "want a positive number") {
			t.Errorf("retry %q: %v", bad, err)
		}
	}
	if _, err := run(t, env, "", "jobs", "cancel", "999999"); err == nil {
		t.Error("cancelling a missing job succeeded")
	}
}
