package devcmd

import (
	"fmt"
	"os"
	"path/filepath"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	"github.com/spf13/cobra"

	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/migrator"
	"github.com/acme/monolith/platform/migrator/authoring"
)

// migrateUses is what migration authoring reads: MIGRATE_DEV_URL, of the
// database section.
const migrateUses = config.DatabaseSection

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
				dev, cleanup, err := authoring.OpenDev(cmd.Context(), dia, cfg.Database.DevURL)
				if err != nil {
					return fmt.Errorf("%s scratch database (MIGRATE_DEV_URL): %w", dia, err)
				}
				changed, err := authoring.Generate(cmd.Context(), dev, dia, local, version, args[0])
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
