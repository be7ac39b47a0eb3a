package users

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/acme/monolith/modules/users/usersvc"
	"github.com/acme/monolith/platform/cli"
)

// serviceAccountsCommand is `app service-accounts create`: a service
// account through the users service; give it roles with `app roles
// assign` and keys with `app api-keys create`.
func serviceAccountsCommand(run cli.Run) *cobra.Command {
	cmd := &cobra.Command{Use: "service-accounts", Short: "Administer service accounts (no password, API keys only)"}
	var name string
	create := &cobra.Command{
		Use:     "create EMAIL",
		Short:   "Create a service account named by an email-shaped identifier",
		Example: "  app service-accounts create ci@service.invalid --name 'CI' && app roles assign support ci@service.invalid && app api-keys create ci@service.invalid users:read",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd, func(ctx context.Context, svc *usersvc.Service) error {
				u, err := svc.CreateServiceAccount(ctx, args[0], name)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "created service account %s (%s)\n", u.Email, u.ID)
				return err
			})
		},
	}
	create.Flags().StringVar(&name, "name", "", "display name")
	cmd.AddCommand(create)
	return cmd
}
