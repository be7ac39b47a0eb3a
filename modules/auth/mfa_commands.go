package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/cli"
)

// mfaCommand is `app mfa`: an operator's view of an account's second
// factor, and its removal when the owner lost both the authenticator and
// the recovery codes (after proving who they are out of band, as at
// enrolment: ASVS V6.4.4).
func mfaCommand(run cli.Run) *cobra.Command {
	cmd := &cobra.Command{Use: "mfa", Short: "Inspect or remove an account's two-factor authentication"}
	cmd.AddCommand(&cobra.Command{
		Use:   "status EMAIL",
		Short: "Whether the account has a second factor, and how many recovery codes are left",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd, func(ctx context.Context, accounts authn.Accounts, m *authsvc.MFA) error {
				a, err := account(ctx, accounts, args[0])
				if err != nil {
					return err
				}
				st, err := m.Status(ctx, a.UserID)
				if err != nil {
					return err
				}
				switch {
				case st.Enabled:
					_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s: two-factor enabled since %s, %d recovery codes left\n",
						a.Email, st.EnabledAt.Format(time.RFC3339), st.RecoveryCodesLeft)
				case st.Pending:
					_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s: enrolment started, not confirmed\n", a.Email)
				default:
					_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s: no second factor\n", a.Email)
				}
				return err
			})
		},
	}, &cobra.Command{
		Use:   "reset EMAIL",
		Short: "Remove the account's second factor and recovery codes (verify the owner's identity first); the password alone signs in again",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return run(cmd, func(ctx context.Context, accounts authn.Accounts, m *authsvc.MFA) error {
				a, err := account(ctx, accounts, args[0])
				if err != nil {
					return err
				}
				if err := m.Reset(ctx, a.UserID); err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "removed the second factor of %s\n", a.Email)
				return err
			})
		},
	})
	return cmd
}
