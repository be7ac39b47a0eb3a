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
	var dir, base string
	cmd := &cobra.Command{
		Use:   "lint",
		Short: "Fail on destructive statements in Postgres migrations that carry no acknowledgement",
		Long: "Checks every .sql file of the Postgres migration directory for changes that lose data or break " +
			"the previous release during a rolling update (DROP TABLE/COLUMN, TRUNCATE, SET NOT NULL, ADD COLUMN " +
			"NOT NULL without DEFAULT, type changes, renames). A file that means it says so with a comment line " +
			"`" + migrator.Acknowledgement + " <reason>`; then run `app migrate hash`. With --base REV (CI passes main) it also " +
			"fails when a file the revision lacks is older than the revision's newest migration, in either dialect, naming " +
			"the `app-dev migrate rebase` command that moves it to the head.",
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
			var errs []error
			if len(findings) > 0 {
				fmt.Fprintf(out, "%d destructive statement(s): make the change in safe steps, or add a line %q to the file and run `app migrate hash`\n",
					len(findings), migrator.Acknowledgement+" <why it is safe>")
				errs = append(errs, errDestructive)
			} else {
				fmt.Fprintf(out, "%s: no unacknowledged destructive statements\n", dir)
			}
			if base != "" {
				if err := checkOrder(cmd.Context(), base, filepath.Dir(dir)); err != nil {
					errs = append(errs, err)
				} else {
					fmt.Fprintf(out, "%s: every migration the base %s lacks is newer than its newest\n", filepath.Dir(dir), base)
				}
			}
			return errors.Join(errs...)
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "migrations/postgres", "the Postgres migration directory")
	cmd.Flags().StringVar(&base, "base", "", "a git revision (e.g. main): also fail on migrations older than its newest")
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
				if err := migrator.WriteSum(local); err != nil {
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
