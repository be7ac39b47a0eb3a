package devcmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/acme/monolith/platform/migrator"
)

func migrateRebaseCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "rebase VERSION...",
		Short: "Move migration files to the head of the directories (a new version, the same content) and rehash atlas.sum",
		Long: "For a migration merged from a branch after a newer one (migrate up, status and lint --base name it): " +
			"gives each VERSION (or file name without .sql) a version after every other file, in every dialect " +
			"directory that has it, and rewrites atlas.sum, as the Atlas CLI's `migrate rebase` does. Then stage " +
			"the directory (git add -A migrations) and commit. Only for files not yet applied to a shared database: " +
			"one that ran the file under its old version would run it again.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			moved, err := migrator.Rebase(dir, args, time.Now())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, r := range moved {
				fmt.Fprintf(out, "moved %s -> %s\n", filepath.Join(dir, r.Dir, r.From), filepath.Join(dir, r.Dir, r.To))
			}
			fmt.Fprintf(out, "atlas.sum rewritten; stage the move: git add -A %s\n", dir)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "migrations", "the migrations directory (holds postgres/ and sqlite/)")
	return cmd
}

// checkOrder compares the migration directories under root with those of
// the git revision base: a file the base lacks that sorts before the
// base's newest version would run out of order on every database migrated
// from the base (CI runs it against main).
func checkOrder(ctx context.Context, base, root string) error {
	git := func(args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, "git", args...) // #nosec G204 -- git with the revision the developer or CI names
		cmd.Dir = root
		return cmd
	}
	if out, err := git("rev-parse", "--verify", "--quiet", base+"^{commit}").CombinedOutput(); err != nil {
		return fmt.Errorf("--base %s is not a revision of this repository (in a fresh clone, fetch it: git fetch origin main:main): %w %s", base, err, strings.TrimSpace(string(out)))
	}
	var errs []error
	for _, sub := range []string{"postgres", "sqlite"} {
		branch, err := sqlFiles(filepath.Join(root, sub))
		if err != nil {
			return err
		}
		if err := migrator.CheckVersions(sub, branch); err != nil {
			errs = append(errs, err)
			continue
		}
		// A directory the base lacks has no files there. "./" makes the
		// path relative to root, where git runs; --full-tree lists all of
		// the tree it names (ls-tree otherwise keeps to root's prefix).
		out, err := git("ls-tree", "-z", "--full-tree", "--name-only", base+":./"+sub).Output()
		var onBase []string
		if err == nil {
			for _, name := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
				if strings.HasSuffix(name, ".sql") {
					onBase = append(onBase, name)
				}
			}
		}
		if late, newest := migrator.LateFiles(onBase, branch); len(late) > 0 {
			errs = append(errs, &migrator.OutOfOrderError{Dir: sub, Files: late, Newest: newest, Where: "on " + base})
		}
	}
	return errors.Join(errs...)
}

func sqlFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	return names, nil
}
