package users

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/acme/monolith/modules/users/usersvc"
	"github.com/acme/monolith/platform/cli"
	"github.com/acme/monolith/platform/paging"
)

// rolesCommand is `app roles`: roles through the module's own service, so
// the API's rules apply (built-in roles stay, the last admin remains,
// permissions must be declared); the operator acts as the system, which
// holds every permission.
func rolesCommand(run cli.Run) *cobra.Command {
	cmd := &cobra.Command{Use: "roles", Short: "Administer roles and the permissions they grant"}
	cmd.AddCommand(
		rolesListCommand(run), permissionsListCommand(run), rolesCreateCommand(run),
		rolesGrantCommand(run, true), rolesGrantCommand(run, false),
		rolesAssignCommand(run, true), rolesAssignCommand(run, false),
	)
	return cmd
}

func rolesListCommand(run cli.Run) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the roles and what each grants",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, func(ctx context.Context, svc *usersvc.Service) error {
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				_, _ = fmt.Fprintln(w, "NAME\tPERMISSIONS")
				req := paging.Request{Limit: paging.MaxLimit}
				for {
					page, err := svc.Roles(ctx, req)
					if err != nil {
						return err
					}
					for _, r := range page.Items {
						perms := strings.Join(r.Permissions, " ")
						if r.All {
							perms = "(every permission)"
						}
						_, _ = fmt.Fprintf(w, "%s\t%s\n", r.Name, perms)
					}
					if page.Next == nil {
						break
					}
					req.After = *page.Next
				}
				return w.Flush()
			})
		},
	}
}

func permissionsListCommand(run cli.Run) *cobra.Command {
	return &cobra.Command{
		Use:   "permissions",
		Short: "List every permission the modules declare",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return run(cmd, func(svc *usersvc.Service) error {
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				for _, p := range svc.Catalogue() {
					_, _ = fmt.Fprintf(w, "%s\t%s\n", p.Name, p.Description)
				}
				return w.Flush()
			})
		},
	}
}

func rolesCreateCommand(run cli.Run) *cobra.Command {
	return &cobra.Command{
		Use:     "create NAME [PERMISSION...]",
		Short:   "Create a role granting the permissions",
		Example: "  app roles create support users:read",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd, func(ctx context.Context, svc *usersvc.Service) error {
				r, err := svc.CreateRole(ctx, usersvc.System, args[0], args[1:])
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "created role %s (%s)\n", r.Name, r.ID)
				return err
			})
		},
	}
}

// rolesGrantCommand is `grant ROLE PERMISSION...` (adds) or `revoke`.
func rolesGrantCommand(run cli.Run, grant bool) *cobra.Command {
	use, short, verb := "grant", "Add permissions to a role", "granted"
	if !grant {
		use, short, verb = "revoke", "Take permissions from a role", "revoked"
	}
	return &cobra.Command{
		Use:     use + " ROLE PERMISSION...",
		Short:   short,
		Example: "  app roles " + use + " support users:write",
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd, func(ctx context.Context, svc *usersvc.Service) error {
				r, err := svc.RoleByName(ctx, args[0])
				if err != nil {
					return err
				}
				add, remove := args[1:], []string(nil)
				if !grant {
					add, remove = nil, args[1:]
				}
				r, err = svc.ChangeRolePermissions(ctx, usersvc.System, r.ID, add, remove)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s: role %s grants %s\n", verb, r.Name, strings.Join(r.Permissions, " "))
				return err
			})
		},
	}
}

// rolesAssignCommand is `assign ROLE EMAIL` (gives) or `unassign`.
func rolesAssignCommand(run cli.Run, assign bool) *cobra.Command {
	use, short := "assign", "Give an account a role"
	if !assign {
		use, short = "unassign", "Take a role from an account"
	}
	return &cobra.Command{
		Use:     use + " ROLE EMAIL",
		Short:   short,
		Example: "  app roles " + use + " admin ada@example.com",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd, func(ctx context.Context, svc *usersvc.Service) error {
				r, err := svc.RoleByName(ctx, args[0])
				if err != nil {
					return err
				}
				a, err := svc.AccountByEmail(ctx, args[1])
				if err != nil {
					return err
				}
				change, done := svc.AssignRole, "gave"
				if !assign {
					change, done = svc.UnassignRole, "took"
				}
				if _, err := change(ctx, usersvc.System, a.UserID, r.ID); err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s role %s: %s\n", done, r.Name, a.Email)
				return err
			})
		},
	}
}
