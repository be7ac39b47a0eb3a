package appcmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"go.uber.org/fx"

	"github.com/acme/monolith/modules/users/usersvc"
	"github.com/acme/monolith/platform/config"
)

// createSuperuserUses is what the users service needs: the database,
// password hashing and the users settings; not the signing keys.
const createSuperuserUses = config.DatabaseSection | config.UsersSection | config.PasswordSection

func usersCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "users", Short: "Administer users"}
	cmd.AddCommand(createSuperuserCmd())
	return cmd
}

func createSuperuserCmd() *cobra.Command {
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
			cfg, err := config.LoadSections(createSuperuserUses)
			if err != nil {
				return err
			}
			var svc *usersvc.Service
			app := fx.New(appOptions(cfg, fx.Populate(&svc)))
			if err := app.Err(); err != nil {
				return err
			}
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			if err := app.Start(ctx); err != nil {
				return err
			}
			defer func() { _ = app.Stop(context.Background()) }()
			u, err := svc.CreateSuperuser(ctx, email, pw, fullName)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "created superuser %s (%s)\n", u.Email, u.ID)
			return nil
		},
	}
	cmd.Flags().StringVar(&email, "email", "", "email address (required)")
	cmd.Flags().StringVar(&pw, "password", "", "password (visible in the process list: prefer --password-stdin)")
	cmd.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password from the first line of stdin")
	cmd.Flags().StringVar(&fullName, "full-name", "", "full name")
	return cmd
}
