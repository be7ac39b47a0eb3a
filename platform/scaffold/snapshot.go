package scaffold

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path"
	"slices"
)

// snapshot remembers every file and directory under some trees, so that a
// failed generation can put them back exactly: files it created (including
// what `go generate` wrote) are removed, files it changed get their old
// content back. Paths are slash-separated and relative to the root, and
// every operation goes through an os.Root, so nothing outside it is touched.
type snapshot struct {
	root  *os.Root
	trees []string
	files map[string][]byte
	dirs  map[string]bool
}

func takeSnapshot(root *os.Root, trees ...string) (*snapshot, error) {
	s := &snapshot{root: root, trees: trees, files: map[string][]byte{}, dirs: map[string]bool{}}
	for _, tree := range trees {
		err := fs.WalkDir(root.FS(), tree, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				s.dirs[p] = true
				return nil
			}
			b, err := root.ReadFile(p)
			if err != nil {
				return err
			}
			s.files[p] = b
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
		_ = fs.WalkDir(s.root.FS(), tree, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() {
				if !s.dirs[p] {
					newDirs = append(newDirs, p)
				}
				return nil
			}
			old, ok := s.files[p]
			if !ok {
				errs = append(errs, s.root.Remove(p))
				return nil
			}
			if cur, err := s.root.ReadFile(p); err != nil || !bytes.Equal(cur, old) {
				errs = append(errs, s.root.WriteFile(p, old, 0o600))
			}
			return nil
		})
	}
	// Files that were removed come back too.
	for p, old := range s.files {
		if _, err := s.root.Stat(p); errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, s.root.MkdirAll(path.Dir(p), 0o750), s.root.WriteFile(p, old, 0o600))
		}
	}
	// Deepest first, so a directory is empty when its turn comes.
	slices.SortFunc(newDirs, func(a, b string) int { return len(b) - len(a) })
	for _, d := range newDirs {
		errs = append(errs, s.root.RemoveAll(d))
	}
	return errors.Join(errs...)
}
