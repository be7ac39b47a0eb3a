package jobs

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/spf13/cobra"

	"github.com/acme/monolith/platform/cli"
)

// command is `app jobs list|retry|cancel`, for an operator: it builds the
// queue only (no worker starts).
func command(run cli.Run) *cobra.Command {
	cmd := &cobra.Command{Use: "jobs", Short: "List, retry and cancel background jobs"}
	var kind, state string
	var limit int
	list := &cobra.Command{
		Use:   "list",
		Short: "List jobs, newest first (discarded and cancelled ones stay listed until River prunes them)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, func(ctx context.Context, q *Queue) error {
				params := river.NewJobListParams().First(limit).OrderBy(river.JobListOrderByID, river.SortOrderDesc)
				if kind != "" {
					params = params.Kinds(kind)
				}
				if state != "" {
					params = params.States(rivertype.JobState(state))
				}
				res, err := q.client.JobList(ctx, params)
				if err != nil {
					return fmt.Errorf("list jobs: %w", err)
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 2, 2, ' ', 0)
				_, _ = fmt.Fprintln(w, "ID\tKIND\tSTATE\tATTEMPT\tSCHEDULED\tLAST ERROR")
				for _, j := range res.Jobs {
					last := ""
					if n := len(j.Errors); n > 0 {
						last = j.Errors[n-1].Error
					}
					_, _ = fmt.Fprintf(w, "%d\t%s\t%s\t%d/%d\t%s\t%s\n", j.ID, j.Kind, j.State, j.Attempt, j.MaxAttempts,
						j.ScheduledAt.UTC().Format(time.RFC3339), last)
				}
				return w.Flush()
			})
		},
	}
	list.Flags().StringVar(&kind, "kind", "", "only this kind")
	list.Flags().StringVar(&state, "state", "", "only this state (available, running, retryable, scheduled, completed, discarded, cancelled)")
	list.Flags().IntVar(&limit, "limit", 50, "at most this many")
	cmd.AddCommand(list,
		byID(run, "retry", "Make a job available to work now (a discarded or cancelled one too)",
			func(ctx context.Context, q *Queue, id int64) (*rivertype.JobRow, error) {
				return q.client.JobRetry(ctx, id)
			}),
		byID(run, "cancel", "Cancel a job: a waiting one at once, a running one when its worker next sees its context",
			func(ctx context.Context, q *Queue, id int64) (*rivertype.JobRow, error) {
				return q.client.JobCancel(ctx, id)
			}),
	)
	return cmd
}

func byID(run cli.Run, use, short string, do func(context.Context, *Queue, int64) (*rivertype.JobRow, error)) *cobra.Command {
	return &cobra.Command{
		Use:   use + " ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return fmt.Errorf("job id %q: want a positive number", args[0])
			}
			return run(cmd, func(ctx context.Context, q *Queue) error {
				j, err := do(ctx, q, id)
				if err != nil {
					return fmt.Errorf("%s job %d: %w", use, id, err)
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "job %d (%s) is %s\n", j.ID, j.Kind, j.State)
				return err
			})
		},
	}
}
