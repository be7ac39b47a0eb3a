//go:build !linux

package residency

import "errors"

// ReleaseExecutable releases nothing where the process's mappings cannot
// be read the Linux way.
func ReleaseExecutable() (uint64, error) { return 0, errors.ErrUnsupported }
