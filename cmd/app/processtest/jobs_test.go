package processtest

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.uber.org/zap"

	"github.com/acme/monolith/cmd/app/processtest/internal/blockjob"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/jobs"
	"github.com/acme/monolith/platform/testkit"
)

// blockBinary is the serving binary plus the blockjob worker, built once.
var blockBinary = sync.OnceValues(func() (string, error) {
	out := filepath.Join(filepath.Dir(binary), "blockapp")
	build := exec.Command("go", "build", "-trimpath", "-o", out, "./internal/blockjob/blockapp")
	build.Env = append(build.Environ(), "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build blockapp: %w\n%s", err, b)
	}
	return out, nil
})

// process is a running `worker` or `serve`.
type process struct {
	cmd    *exec.Cmd
	logs   *syncBuffer
	exited chan error
	// probes is the metrics listener, where a worker answers its probes.
	probes string
}

// launch starts bin with args in an empty working directory, with only
// env (see environ), collecting its output; the process is killed when the
// test ends.
func launch(t *testing.T, bin string, env map[string]string, args ...string) *process {
	t.Helper()
	p := &process{logs: &syncBuffer{}, exited: make(chan error, 1)}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = environ(env)
	p.cmd.Dir = t.TempDir()
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() { _ = p.cmd.Process.Kill() })
	return p
}

// startWorker runs `blockapp worker` with env and waits until its
// readiness answers 200.
func startWorker(t *testing.T, env map[string]string) *process {
	t.Helper()
	bin, err := blockBinary()
	if err != nil {
		t.Fatal(err)
	}
	return startWorkerOf(t, bin, env)
}

// startWorkerOf runs `bin worker` with env and waits until its readiness
// answers 200.
func startWorkerOf(t *testing.T, bin string, env map[string]string) *process {
	t.Helper()
	probes := freeAddr(t)
	full := map[string]string{"METRICS_ADDR": probes}
	for k, v := range env {
		full[k] = v
	}
	p := launch(t, bin, full, "worker")
	p.probes = probes
	for deadline := time.Now().Add(60 * time.Second); p.get(t, "/readyz") != http.StatusOK; time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-p.exited:
			t.Fatalf("worker exited at start: %v\n%s", err, p.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("worker not ready within 60s:\n%s", p.logs.String())
		}
	}
	return p
}

// get returns the status of a GET on the worker's probe listener (0 when
// it does not answer).
func (p *process) get(t *testing.T, path string) int {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	res, err := c.Get("http://" + p.probes + path)
	if err != nil {
		return 0
	}
	_ = res.Body.Close()
	return res.StatusCode
}

// wait waits for the process to exit after a signal.
func (p *process) wait(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case err := <-p.exited:
		return err
	case <-time.After(within):
		t.Fatalf("the process did not exit within %s:\n%s", within, p.logs.String())
		return nil
	}
}

// jobsEnv is a worker's environment over a fresh database of dialect dia,
// and a queue on that database for the test to enqueue and read jobs.
func jobsEnv(t *testing.T, dia string) (map[string]string, func() *jobs.Queue) {
	t.Helper()
	url, direct := testkit.NewDatabaseURLs(t, dia)
	env := map[string]string{
		"DATABASE_URL":       url,
		"MIGRATE_ON_START":   "true",
		"JOBS_POLL_INTERVAL": "100ms",
		"LOG_LEVEL":          "info",
	}
	if direct != url {
		env["DATABASE_DIRECT_URL"] = direct
	}
	// The queue is opened once a worker has migrated the database.
	queue := sync.OnceValue(func() *jobs.Queue {
		db, err := database.Open(config.Database{URL: url, DirectURL: direct, MaxOpenConns: 2, MaxIdleConns: 2, QueryTimeout: testkit.QueryTimeout})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		q, err := jobs.New(jobs.Params{DB: db, Settings: jobs.Settings{PollInterval: time.Second}, Log: zap.NewNop(), Metrics: prometheus.NewRegistry(),
			Registrations: []jobs.Registration{jobs.RegistrationOf[blockjob.Args](blockjob.Worker{})}})
		if err != nil {
			t.Fatal(err)
		}
		return q
	})
	return env, queue
}

// waitForJob polls job id until ok accepts it.
func waitForJob(t *testing.T, q *jobs.Queue, id int64, within time.Duration, what string, ok func(*jobs.JobRow) bool, logs ...*syncBuffer) *jobs.JobRow {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		j, err := q.Get(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if ok(j) {
			return j
		}
		if time.Now().After(deadline) {
			var out []string
			for _, l := range logs {
				out = append(out, l.String())
			}
			t.Fatalf("job %d not %s within %s: state %s, attempt %d, errors %+v\n%s", id, what, within, j.State, j.Attempt, j.Errors, strings.Join(out, "\n---\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSIGKILLDuringAJobRetriesIt: a worker process is killed (SIGKILL,
// nothing runs on the way out) while it works a job, which stays
// "running" in the database; another worker process retries it within
// JOBS_TIMEOUT + JOBS_RESCUE_GRACE plus the rescuer's period and a leader
// hand-over, not River's default hour, and completes it. Both databases.
func TestSIGKILLDuringAJobRetriesIt(t *testing.T) {
	for _, dia := range testkit.ReachableDialects(t) {
		t.Run(dia, func(t *testing.T) {
			t.Parallel()
			env, queue := jobsEnv(t, dia)
			// A short deadline, so the dead process's job is soon past it;
			// the kill comes long before it.
			env["JOBS_TIMEOUT"] = "10s"
			env["JOBS_RESCUE_GRACE"] = "1s"
			first := startWorker(t, env)
			q := queue()
			j, err := q.Enqueue(context.Background(), blockjob.Args{Block: true}, nil)
			if err != nil {
				t.Fatal(err)
			}
			waitForJob(t, q, j.ID, 30*time.Second, "running", func(j *jobs.JobRow) bool { return j.State == rivertype.JobStateRunning }, first.logs)
			killed := time.Now()
			if err := first.cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			_ = first.wait(t, 10*time.Second)
			if got, _ := q.Get(context.Background(), j.ID); got.State != rivertype.JobStateRunning || got.Attempt != 1 {
				t.Fatalf("after the kill the job is %s (attempt %d), want still running, attempt 1: the kill came too late", got.State, got.Attempt)
			}

			second := startWorker(t, env)
			done := waitForJob(t, q, j.ID, 2*time.Minute, "completed", func(j *jobs.JobRow) bool { return j.State == rivertype.JobStateCompleted }, first.logs, second.logs)
			t.Logf("worked again and completed %s after the SIGKILL (deadline 10s + grace 1s, then the rescuer's 30s period and the leader hand-over)", time.Since(killed).Round(time.Second))
			if done.Attempt != 2 || len(done.Errors) != 1 || !strings.Contains(done.Errors[0].Error, "Stuck job rescued") {
				t.Errorf("completed at attempt %d with errors %+v, want attempt 2 after a rescue", done.Attempt, done.Errors)
			}
			if err := second.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if err := second.wait(t, 30*time.Second); err != nil {
				t.Fatalf("exit after SIGTERM: %v\n%s", err, second.logs.String())
			}
		})
	}
}

// TestWorkerSIGTERMUnderBacklogLosesNothing: `app worker` stopped by
// SIGTERM while jobs run and more wait fails readiness at once (liveness
// stays up), then finishes its running jobs, or, past
// JOBS_SHUTDOWN_TIMEOUT, hands them back: every job ends completed or
// available, none running or lost, and the exit is clean. Both databases.
func TestWorkerSIGTERMUnderBacklogLosesNothing(t *testing.T) {
	for _, dia := range testkit.ReachableDialects(t) {
		t.Run(dia, func(t *testing.T) {
			for _, c := range []struct {
				name         string
				sleep        time.Duration
				stopTimeout  string
				wantFinished bool
			}{
				{"finishes running jobs", 300 * time.Millisecond, "30s", true},
				{"hands back jobs past the timeout", time.Hour, "2s", false},
			} {
				t.Run(c.name, func(t *testing.T) {
					env, queue := jobsEnv(t, dia)
					env["JOBS_CONCURRENCY"] = "4"
					env["JOBS_TIMEOUT"] = "2h"
					env["JOBS_SHUTDOWN_TIMEOUT"] = c.stopTimeout
					w := startWorker(t, env)
					q := queue()
					const backlog = 30
					for range backlog {
						if _, err := q.Enqueue(context.Background(), blockjob.Args{Sleep: c.sleep}, nil); err != nil {
							t.Fatal(err)
						}
					}
					for deadline := time.Now().Add(30 * time.Second); count(t, q)[rivertype.JobStateRunning] < 4; time.Sleep(20 * time.Millisecond) {
						if time.Now().After(deadline) {
							t.Fatalf("4 jobs never ran at once: %v\n%s", count(t, q), w.logs.String())
						}
					}
					if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
						t.Fatal(err)
					}
					if !c.wantFinished {
						// The stop takes the shutdown timeout: readiness
						// fails during it, liveness does not.
						sawNotReady := false
						for range 100 {
							if w.get(t, "/readyz") == http.StatusServiceUnavailable {
								sawNotReady = true
								break
							}
							time.Sleep(10 * time.Millisecond)
						}
						if !sawNotReady || w.get(t, "/livez") != http.StatusOK {
							t.Error("during the stop, readiness must fail and liveness pass")
						}
					}
					if err := w.wait(t, time.Minute); err != nil {
						t.Fatalf("exit after SIGTERM: %v\n%s", err, w.logs.String())
					}
					got := count(t, q)
					if got[rivertype.JobStateRunning] != 0 || got[rivertype.JobStateCompleted]+got[rivertype.JobStateAvailable] != backlog {
						t.Fatalf("after the stop: %v, want all %d completed or available\n%s", got, backlog, w.logs.String())
					}
					if c.wantFinished && got[rivertype.JobStateCompleted] < 4 {
						t.Errorf("%d completed: the running jobs were not finished", got[rivertype.JobStateCompleted])
					}
					if !c.wantFinished && got[rivertype.JobStateCompleted] != 0 {
						t.Errorf("%d hour-long jobs completed", got[rivertype.JobStateCompleted])
					}
				})
			}
		})
	}
}

func count(t *testing.T, q *jobs.Queue) map[rivertype.JobState]int {
	t.Helper()
	res, err := q.Client().JobList(context.Background(), river.NewJobListParams().Kinds(blockjob.Args{}.Kind()).First(1000))
	if err != nil {
		t.Fatal(err)
	}
	m := map[rivertype.JobState]int{}
	for _, j := range res.Jobs {
		m[j.State]++
	}
	return m
}

// TestWorkerNeedsOnlyTheDatabase: in production, `app worker` (the
// shipped binary) starts with nothing but DATABASE_URL, as the worker
// Deployment gives it, answers its probes on METRICS_ADDR and serves no
// API; with METRICS_ADDR=off it refuses, naming the variable.
func TestWorkerNeedsOnlyTheDatabase(t *testing.T) {
	env := map[string]string{"APP_ENV": "production", "DATABASE_URL": testkit.NewDatabaseURL(t, "postgres")}
	runOK(t, env, "", "migrate", "up")
	w := startWorkerOf(t, binary, env)
	if got := w.get(t, "/livez"); got != http.StatusOK {
		t.Errorf("/livez: %d", got)
	}
	if got := w.get(t, "/metrics"); got != http.StatusOK {
		t.Errorf("/metrics: %d", got)
	}
	if got := w.get(t, "/api/users/me"); got != http.StatusNotFound {
		t.Errorf("the worker answers the API: /api/users/me %d", got)
	}
	if err := w.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := w.wait(t, 30*time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, w.logs.String())
	}
	env["METRICS_ADDR"] = "off"
	runFailing(t, env, "worker").requireOneClearLine(t, "METRICS_ADDR:")
}
