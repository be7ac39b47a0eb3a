// Package blockjob is a job kind for the process tests: its first attempt
// can be made to block until the process dies, so a test can SIGKILL a
// worker in the middle of a job and watch another process retry it.
package blockjob

import (
	"context"
	"time"

	"github.com/acme/monolith/platform/jobs"
)

// Args are one job. Block makes the first attempt wait until its context
// ends (a deadline or the process's stop); any other attempt sleeps
// Sleep, or until its context ends, and succeeds.
type Args struct {
	Block bool          `json:"block"`
	Sleep time.Duration `json:"sleep"`
}

// Kind names the kind.
func (Args) Kind() string { return "processtest_block" }

// Worker works Args.
type Worker struct{ jobs.WorkerDefaults[Args] }

// Work blocks or sleeps as the arguments say.
func (Worker) Work(ctx context.Context, j *jobs.Job[Args]) error {
	if j.Args.Block && j.Attempt == 1 {
		<-ctx.Done()
		return ctx.Err()
	}
	select {
	case <-time.After(j.Args.Sleep):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Module registers the worker.
var Module = jobs.ProvideWorker[Args](func() Worker { return Worker{} })
