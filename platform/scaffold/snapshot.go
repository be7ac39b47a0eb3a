package scaffold

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// snapshot remembers every file and directory under some trees, so that a
// failed generation can put them back exactly: files it created (including
// what `go generate` wrote) are removed, files it changed get their old
// content back.
type snapshot struct {
	root  string
	trees []string
	files map[string][]byte // relative path -> content
	dirs  map[string]bool
}

func takeSnapshot(root string, trees ...string) (*snapshot, error) {
	s := &snapshot{root: root, trees: trees, files: map[string][]byte{}, dirs: map[string]bool{}}
	for _, tree := range trees {
		err := filepath.WalkDir(filepath.Join(root, tree), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			if d.IsDir() {
				s.dirs[rel] = true
				return nil
			}
			b, err := os.ReadFile(path) // #nosec G304 -- walking our own tree
			if err != nil {
				return err
			}
			s.files[rel] = b
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return s, nil
}

func (s *snapshot) restore() error {
	var errs []error
	var newDirs []string
	for _, tree := range s.trees {
		_ = filepath.WalkDir(filepath.Join(s.root, tree), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			rel, _ := filepath.Rel(s.root, path)
			if d.IsDir() {
				if !s.dirs[rel] {
					newDirs = append(newDirs, path)
				}
				return nil
			}
			old, ok := s.files[rel]
			switch {
			case !ok:
				errs = append(errs, os.Remove(path))
			default:
				if cur, err := os.ReadFile(path); err != nil || !bytes.Equal(cur, old) { // #nosec G304 -- our own tree
					errs = append(errs, os.WriteFile(path, old, 0o600))
				}
			}
			return nil
		})
	}
	// Files that were removed come back too.
	for rel, old := range s.files {
		path := filepath.Join(s.root, rel)
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, os.MkdirAll(filepath.Dir(path), 0o750), os.WriteFile(path, old, 0o600))
		}
	}
	// Deepest first, so a directory is empty when its turn comes.
	slices.SortFunc(newDirs, func(a, b string) int { return len(b) - len(a) })
	for _, d := range newDirs {
		errs = append(errs, os.RemoveAll(d))
	}
	return errors.Join(errs...)
}
