package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/acme/monolith/modules/audit/auditsvc"
	platformaudit "github.com/acme/monolith/platform/audit"
	"github.com/acme/monolith/platform/cli"
	"github.com/acme/monolith/platform/paging"
)

// auditCommand is `app audit`: the operator's view of the audit log,
// through the module's own service, in the same application graph as serve.
func auditCommand(run cli.Run) *cobra.Command {
	cmd := &cobra.Command{Use: "audit", Short: "Query and prune the audit log"}
	cmd.AddCommand(listCommand(run), pruneCommand(run))
	return cmd
}

func listCommand(run cli.Run) *cobra.Command {
	var (
		f        auditsvc.Filter
		kind     string
		from, to string
		limit    int
	)
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "Print audit-log entries, newest first, one JSON object a line",
		Example: "  app audit list --action auth.sign_in.failed --from 2026-03-01T00:00:00Z --limit 50",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f.ActorKind = platformaudit.ActorKind(kind)
			var err error
			if from != "" {
				if f.From, err = time.Parse(time.RFC3339Nano, from); err != nil {
					return fmt.Errorf("--from: %w", err)
				}
			}
			if to != "" {
				if f.To, err = time.Parse(time.RFC3339Nano, to); err != nil {
					return fmt.Errorf("--to: %w", err)
				}
			}
			if limit < 1 || limit > paging.MaxLimit {
				return fmt.Errorf("--limit must be 1 to %d", paging.MaxLimit)
			}
			return run(cmd, func(ctx context.Context, svc *auditsvc.Service) error {
				l, err := svc.List(ctx, f, paging.Request{Limit: limit})
				if err != nil {
					return err
				}
				enc := json.NewEncoder(cmd.OutOrStdout())
				for _, e := range l.Items {
					if err := enc.Encode(toJSON(e)); err != nil {
						return err
					}
				}
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&kind, "actor-kind", "", "user, service or system")
	fl.StringVar(&f.ActorID, "actor", "", "the actor's id")
	fl.StringVar(&f.Action, "action", "", "an action, such as users.role.assigned")
	fl.StringVar(&f.TargetType, "target-type", "", "what kind of thing was acted on (user, role, session)")
	fl.StringVar(&f.TargetID, "target", "", "its id (with --target-type)")
	fl.StringVar(&from, "from", "", "entries at or after this RFC 3339 time")
	fl.StringVar(&to, "to", "", "entries before this RFC 3339 time")
	fl.IntVar(&limit, "limit", paging.DefaultLimit, "how many entries")
	return cmd
}

func pruneCommand(run cli.Run) *cobra.Command {
	return &cobra.Command{
		Use:   "prune",
		Short: "Delete the entries older than AUDIT_RETENTION now (serve does it hourly)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, func(ctx context.Context, svc *auditsvc.Service) error {
				n, err := svc.Prune(ctx)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "pruned %d entries\n", n)
				return err
			})
		},
	}
}

type jsonEntry struct {
	Time      time.Time         `json:"time"`
	ActorKind string            `json:"actor_kind"`
	ActorID   string            `json:"actor_id,omitempty"`
	Action    string            `json:"action"`
	Target    string            `json:"target"`
	ClientIP  string            `json:"client_ip,omitempty"`
	RequestID string            `json:"request_id,omitempty"`
	Payload   map[string]string `json:"payload,omitempty"`
}

func toJSON(e auditsvc.Event) jsonEntry {
	t := e.Target.Type
	if e.Target.ID != "" {
		t += ":" + e.Target.ID
	}
	return jsonEntry{
		Time: e.Time, ActorKind: string(e.Actor.Kind), ActorID: e.Actor.ID, Action: e.Action,
		Target: t, ClientIP: e.ClientIP, RequestID: e.RequestID, Payload: e.Payload,
	}
}
