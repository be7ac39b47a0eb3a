package appcmd

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/logging"
	"github.com/acme/monolith/platform/migrator"
)

// errPending makes `migrate status --exit-code` fail a deploy gate.
var errPending = errors.New("migrations are pending")

func migrateCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "migrate", Short: "Apply and inspect database migrations"}
	cmd.AddCommand(migrateUpCmd(), migrateStatusCmd())
	return cmd
}

// migrateUses is all a migration needs: a migration Job holds
// DATABASE_URL and no signing key.
const migrateUses = config.DatabaseSection

func openMigrator() (*migrator.Migrator, func(), error) {
	cfg, err := config.LoadSections(migrateUses)
	if err != nil {
		return nil, nil, err
	}
	log, err := logging.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	db, err := database.Open(cfg.Database)
	if err != nil {
		return nil, nil, err
	}
	m, err := migrator.New(db, log.Named("migrate"))
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return m, func() { _ = db.Close(); _ = log.Sync() }, nil
}

func migrateUpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "up",
		Short: "Apply every pending migration (each file in one transaction)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, done, err := openMigrator()
			if err != nil {
				return err
			}
			defer done()
			applied, err := m.Up(cmd.Context())
			for _, name := range applied {
				fmt.Fprintln(cmd.OutOrStdout(), "applied", name)
			}
			if err != nil {
				return err
			}
			if len(applied) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "nothing to apply: the database is up to date")
			}
			return nil
		},
	}
}

func migrateStatusCmd() *cobra.Command {
	var exitCode bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "List applied and pending migrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, done, err := openMigrator()
			if err != nil {
				return err
			}
			defer done()
			st, err := m.Status(cmd.Context())
			if err != nil && !errors.Is(err, migrator.ErrOutOfOrder) {
				return err
			}
			lateErr := err
			out := cmd.OutOrStdout()
			for _, r := range st.Applied {
				fmt.Fprintf(out, "applied  %s_%s.sql  (%s)\n", r.Version, r.Description, r.ExecutedAt.UTC().Format("2006-01-02 15:04:05Z"))
			}
			for _, f := range st.Pending {
				fmt.Fprintf(out, "pending  %s\n", f.Name())
			}
			for _, f := range st.OutOfOrder {
				fmt.Fprintf(out, "late     %s  (older than the newest applied: will not apply)\n", f.Name())
			}
			fmt.Fprintf(out, "%d applied, %d pending", len(st.Applied), len(st.Pending))
			if len(st.OutOfOrder) > 0 {
				fmt.Fprintf(out, ", %d out of order", len(st.OutOfOrder))
			}
			fmt.Fprintln(out)
			if lateErr != nil {
				return lateErr
			}
			if exitCode && len(st.Pending) > 0 {
				return errPending
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&exitCode, "exit-code", false, "exit with status 1 when migrations are pending")
	return cmd
}
