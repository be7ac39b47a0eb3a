package users

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/acme/monolith/modules/users/usersvc"
	"github.com/acme/monolith/platform/cli"
)

// usersCommand is `app users`: administration through the module's own
// service, so the API's rules apply.
func usersCommand(run cli.Run) *cobra.Command {
	cmd := &cobra.Command{Use: "users", Short: "Administer users"}
	cmd.AddCommand(createSuperuserCommand(run))
	return cmd
}

func createSuperuserCommand(run cli.Run) *cobra.Command {
	var email, pw, fullName string
	var fromStdin bool
	cmd := &cobra.Command{
		Use:   "create-superuser",
		Short: "Create a superuser through the users service (the API's own rules apply)",
		Example: "  app users create-superuser --email admin@example.com --password-stdin < secret.txt\n" +
			"  app users create-superuser --email admin@example.com --password 'a long passphrase'",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if email == "" {
				return errors.New("--email is required")
			}
			if fromStdin {
				if pw != "" {
					return errors.New("use either --password or --password-stdin")
				}
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && !errors.Is(err, io.EOF) {
					return fmt.Errorf("read password from stdin: %w", err)
				}
				pw = strings.TrimRight(line, "\r\n")
			}
			if pw == "" {
				return errors.New("a password is required: --password or --password-stdin")
			}
			return run(cmd, func(ctx context.Context, svc *usersvc.Service) error {
				u, err := svc.CreateSuperuser(ctx, email, pw, fullName)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(cmd.OutOrStdout(), "created superuser %s (%s)\n", u.Email, u.ID)
				return err
			})
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "email address (required)")
	cmd.Flags().StringVar(&pw, "password", "", "password (visible in the process list: prefer --password-stdin)")
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of stdin")
	cmd.Flags().StringVar(&fullName, "full-name", "", "full name")
	return cmd
}
