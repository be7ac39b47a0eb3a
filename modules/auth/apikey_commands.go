package auth

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/cli"
)

// apiKeysCommand is `app api-keys`: an operator's create, list and
// revoke for an account named by email, with the same rules as the API
// (a key holds at most what the account holds now). `app keys` is the
// signing keys'.
func apiKeysCommand(run cli.Run) *cobra.Command {
	cmd := &cobra.Command{Use: "api-keys", Short: "Manage an account's API keys"}
	var (
		name string
		ttl  time.Duration
	)
	create := &cobra.Command{
		Use:     "create EMAIL [PERMISSION...]",
		Short:   "Create an API key for the account holding EMAIL; the secret is printed once",
		Example: "  app api-keys create ci@example.com users:read --name 'nightly export' --ttl 720h",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd, func(ctx context.Context, accounts authn.Accounts, keys *authsvc.APIKeys) error {
				a, err := account(ctx, accounts, args[0])
				if err != nil {
					return err
				}
				c, err := keys.Create(ctx, a.UserID, a.Permissions, authsvc.NewAPIKey{Name: name, Permissions: args[1:], TTL: ttl, Service: a.IsService()})
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "created API key %s (%s) for %s, expires %s\n%s\n",
					c.ID, c.Name, a.Email, c.ExpiresAt.Format(time.RFC3339), c.Secret)
				return err
			})
		},
	}
	create.Flags().StringVar(&name, "name", "cli", "what the key is for")
	create.Flags().DurationVar(&ttl, "ttl", 0, "lifetime (default API_KEY_DEFAULT_TTL, at most API_KEY_MAX_TTL)")
	cmd.AddCommand(create, &cobra.Command{
		Use:   "list EMAIL",
		Short: "List the account's live API keys (never their secrets)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd, func(ctx context.Context, accounts authn.Accounts, keys *authsvc.APIKeys) error {
				a, err := account(ctx, accounts, args[0])
				if err != nil {
					return err
				}
				list, err := keys.List(ctx, a.UserID)
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 2, 2, ' ', 0)
				_, _ = fmt.Fprintln(w, "ID\tPREFIX\tNAME\tEXPIRES\tLAST USED\tPERMISSIONS")
				for _, k := range list {
					used := "never"
					if k.LastUsedAt != nil {
						used = k.LastUsedAt.Format(time.RFC3339)
					}
					_, _ = fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Hint, k.Name, k.ExpiresAt.Format(time.RFC3339), used, strings.Join(k.Permissions, " "))
				}
				return w.Flush()
			})
		},
	}, &cobra.Command{
		Use:   "revoke EMAIL ID",
		Short: "Revoke one of the account's API keys: its next request fails, on every replica",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := uuid.Parse(args[1])
			if err != nil {
				return fmt.Errorf("%q is not a key id (see app api-keys list)", args[1])
			}
			return run(cmd, func(ctx context.Context, accounts authn.Accounts, keys *authsvc.APIKeys) error {
				a, err := account(ctx, accounts, args[0])
				if err != nil {
					return err
				}
				if err := keys.Revoke(ctx, a.UserID, id); err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "revoked API key %s of %s\n", id, a.Email)
				return err
			})
		},
	})
	return cmd
}

func account(ctx context.Context, accounts authn.Accounts, email string) (authn.Account, error) {
	a, err := accounts.AccountByEmail(ctx, email)
	if err != nil {
		return authn.Account{}, fmt.Errorf("account %s: %w", email, err)
	}
	if err := a.MayAct(); err != nil {
		return authn.Account{}, fmt.Errorf("account %s is inactive", email)
	}
	return a, nil
}
