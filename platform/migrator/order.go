package migrator

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
)

// ErrOutOfOrder means a migration file sorts before a version that is
// already applied (or already on the base branch). It happens when a
// branch created before another one's migration is merged after it: every
// database that ran the other file would skip or misorder this one.
var ErrOutOfOrder = errors.New("migration out of order")

// ErrVersionTaken means two files of one directory carry the same version:
// revisions are keyed by version, so the second would count as applied.
var ErrVersionTaken = errors.New("two migration files share a version")

// versionLayout is how migrate.NewVersion (and so `app migrate diff`)
// names versions.
const versionLayout = "20060102150405"

// OutOfOrderError names the late files and the version they fall behind.
type OutOfOrderError struct {
	Dir    string   // the dialect directory, e.g. "postgres"
	Files  []string // file names, oldest first
	Newest string   // the newest version applied, or on the base branch
	Where  string   // "applied to this database", "on main"
}

func (e *OutOfOrderError) Error() string {
	versions := make([]string, len(e.Files))
	for i, f := range e.Files {
		versions[i], _, _ = strings.Cut(f, "_")
	}
	return fmt.Sprintf("%s: %s is older than version %s, the newest %s (the branch that wrote it was merged after a newer migration): "+
		"move it to the head in the repository with `app-dev migrate rebase %s`, which renames it in every dialect and rehashes atlas.sum, then commit; "+
		"do this only for files not yet applied to a shared database",
		e.Dir, strings.Join(e.Files, ", "), e.Newest, e.Where, strings.Join(versions, " "))
}

// Unwrap makes errors.Is(err, ErrOutOfOrder) hold.
func (e *OutOfOrderError) Unwrap() error { return ErrOutOfOrder }

// CheckVersions refuses a directory's file names when two share a
// version.
func CheckVersions(dirName string, names []string) error {
	seen := map[string]string{}
	for _, name := range names {
		v := versionOf(name)
		if other, ok := seen[v]; ok {
			return fmt.Errorf("%w: %s: %s and %s (written on two branches in the same second): "+
				"move one to the head with `app-dev migrate rebase %s`", ErrVersionTaken, dirName, other, name, strings.TrimSuffix(name, ".sql"))
		}
		seen[v] = name
	}
	return nil
}

// LateFiles compares a branch's migration file names with the base
// branch's (both of one dialect directory): it returns the branch's files
// that the base lacks but that sort before the base's newest version, and
// that newest version. Such a file would be out of order on every database
// already migrated from the base.
func LateFiles(base, branch []string) (late []string, newest string) {
	for _, name := range base {
		if v := versionOf(name); v > newest {
			newest = v
		}
	}
	for _, name := range branch {
		if !slices.Contains(base, name) && versionOf(name) <= newest {
			late = append(late, name)
		}
	}
	slices.Sort(late)
	return late, newest
}

func versionOf(name string) string {
	v, _, _ := strings.Cut(strings.TrimSuffix(name, ".sql"), "_")
	return v
}

// Renamed is one file Rebase moved.
type Renamed struct{ Dir, From, To string }

// Rebase moves migration files to the head of the directories under root
// (one per dialect), as the Atlas CLI's `migrate rebase` does: each target,
// a version or a file name without .sql, gets a new version after every
// file of every directory (the current time, or one second after the
// newest), the same in each directory that has it, in the order given.
// Each atlas.sum is rewritten. The content of the files is unchanged.
func Rebase(root string, targets []string, now time.Time) ([]Renamed, error) {
	if len(targets) == 0 {
		return nil, errors.New("name the versions to move, e.g. `app-dev migrate rebase 20261202101500`")
	}
	dirs := map[string]*migrate.LocalDir{}
	files := map[string][]migrate.File{}
	head := ""
	for _, sub := range []string{"postgres", "sqlite"} {
		path := filepath.Join(root, sub)
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			continue
		}
		d, err := migrate.NewLocalDir(path)
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		fs, err := d.Files()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		dirs[sub], files[sub] = d, fs
		for _, f := range fs {
			head = max(head, f.Version())
		}
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("%s holds no postgres/ or sqlite/ migration directory", root)
	}
	next, err := nextVersion(head, now)
	if err != nil {
		return nil, err
	}
	// Plan every rename first, so a bad target changes nothing.
	var plan []Renamed
	for _, target := range targets {
		target = strings.TrimSuffix(target, ".sql")
		found := false
		for _, sub := range slices.Sorted(maps.Keys(dirs)) {
			var matches []migrate.File
			for _, f := range files[sub] {
				if f.Version() == target || strings.TrimSuffix(f.Name(), ".sql") == target {
					matches = append(matches, f)
				}
			}
			if len(matches) > 1 {
				return nil, fmt.Errorf("%s: %d files have version %s: name the one to move, e.g. `app-dev migrate rebase %s`",
					sub, len(matches), target, strings.TrimSuffix(matches[1].Name(), ".sql"))
			}
			if len(matches) == 1 {
				found = true
				f := matches[0]
				plan = append(plan, Renamed{Dir: sub, From: f.Name(), To: next.Format(versionLayout) + "_" + f.Desc() + ".sql"})
			}
		}
		if !found {
			return nil, fmt.Errorf("no migration file has version %s under %s", target, root)
		}
		next = next.Add(time.Second)
	}
	for _, r := range plan {
		d := dirs[r.Dir]
		if err := os.Rename(filepath.Join(d.Path(), r.From), filepath.Join(d.Path(), r.To)); err != nil {
			return nil, fmt.Errorf("rebase %s: %w", r.From, err)
		}
	}
	for _, sub := range slices.Sorted(maps.Keys(dirs)) {
		if err := WriteSum(dirs[sub]); err != nil {
			return plan, err
		}
	}
	return plan, nil
}

// nextVersion is the first version after head: now, unless head is in the
// future of now (a clock behind the other team's), then head plus a second.
func nextVersion(head string, now time.Time) (time.Time, error) {
	now = now.UTC().Truncate(time.Second)
	if head == "" {
		return now, nil
	}
	t, err := time.Parse(versionLayout, head)
	if err != nil {
		return time.Time{}, fmt.Errorf("newest migration version %q is not a timestamp (%s): rename the files by hand", head, versionLayout)
	}
	if next := t.Add(time.Second); next.After(now) {
		return next, nil
	}
	return now, nil
}

// WriteSum rewrites a directory's atlas.sum from its files.
func WriteSum(d migrate.Dir) error {
	sum, err := d.Checksum()
	if err != nil {
		return fmt.Errorf("hash migrations: %w", err)
	}
	if err := migrate.WriteSumFile(d, sum); err != nil {
		return fmt.Errorf("write %s: %w", migrate.HashFileName, err)
	}
	return nil
}
