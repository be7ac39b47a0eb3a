package devcmd

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"ariga.io/atlas/sql/migrate"
	"github.com/spf13/cobra"

	"github.com/acme/monolith/platform/migrator"
)

// errDestructive fails CI when a migration would lose data unannounced.
var errDestructive = errors.New("destructive migration statements without acknowledgement")

func migrateLintCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "lint",
		Short: "Fail on destructive statements in Postgres migrations that carry no acknowledgement",
		Long: "Checks every .sql file of the Postgres migration directory for changes that lose data or break " +
			"the previous release during a rolling update (DROP TABLE/COLUMN, TRUNCATE, SET NOT NULL, ADD COLUMN " +
			"NOT NULL without DEFAULT, type changes, renames). A file that means it says so with a comment line " +
			"`" + migrator.Acknowledgement + " <reason>`; then run `app migrate hash`.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			findings, err := migrator.LintDir(os.DirFS(filepath.Dir(dir)), filepath.Base(dir))
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, f := range findings {
				fmt.Fprintln(out, f)
			}
			if len(findings) > 0 {
				fmt.Fprintf(out, "%d destructive statement(s): make the change in safe steps, or add a line %q to the file and run `app migrate hash`\n",
					len(findings), migrator.Acknowledgement+" <why it is safe>")
				return errDestructive
			}
			fmt.Fprintf(out, "%s: no unacknowledged destructive statements\n", dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "migrations/postgres", "the Postgres migration directory")
	return cmd
}

func migrateHashCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "hash",
		Short: "Rewrite atlas.sum after editing a migration file that has not been applied anywhere yet",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			for _, sub := range []string{"postgres", "sqlite"} {
				local, err := migrate.NewLocalDir(filepath.Join(dir, sub))
				if err != nil {
					return err
				}
				sum, err := local.Checksum()
				if err != nil {
					return err
				}
				if err := migrate.WriteSumFile(local, sum); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", filepath.Join(dir, sub, migrate.HashFileName))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "migrations", "the migrations directory (holds postgres/ and sqlite/)")
	return cmd
}
