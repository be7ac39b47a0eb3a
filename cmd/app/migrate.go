package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	"github.com/spf13/cobra"

	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/logging"
	"github.com/acme/monolith/platform/migrator"
)

// errPending makes `migrate status --exit-code` fail a deploy gate.
var errPending = errors.New("migrations are pending")

func migrateCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "migrate", Short: "Apply, inspect and generate database migrations"}
	cmd.AddCommand(migrateUpCmd(), migrateStatusCmd(), migrateDiffCmd(), migrateLintCmd(), migrateHashCmd(), migrateRebaseCmd())
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

func migrateDiffCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "diff NAME",
		Short: "Write the next migration for every dialect from the ent schema",
		Long: "Plans the difference between the migration directory and ent/schema on a scratch database " +
			"(in-memory SQLite; a temporary database on the Postgres server of MIGRATE_DEV_URL) and writes " +
			"NAME into migrations/postgres and migrations/sqlite with the same version, updating atlas.sum.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.LoadSections(migrateUses)
			if err != nil {
				return err
			}
			version := migrate.NewVersion()
			for _, dia := range []string{dialect.Postgres, dialect.SQLite} {
				path := filepath.Join(dir, migrator.DirName(dia))
				if err := os.MkdirAll(path, 0o750); err != nil {
					return err
				}
				local, err := migrate.NewLocalDir(path)
				if err != nil {
					return err
				}
				dev, cleanup, err := migrator.OpenDev(cmd.Context(), dia, cfg.Database.DevURL)
				if err != nil {
					return fmt.Errorf("%s scratch database (MIGRATE_DEV_URL): %w", dia, err)
				}
				changed, err := migrator.Generate(cmd.Context(), dev, dia, local, version, args[0])
				cleanup()
				if err != nil {
					return err
				}
				if changed {
					fmt.Fprintf(cmd.OutOrStdout(), "wrote %s/%s_%s.sql\n", path, version, args[0])
				} else {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: no changes\n", path)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "migrations", "the migrations directory (holds postgres/ and sqlite/)")
	return cmd
}
