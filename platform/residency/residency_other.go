//go:build !linux

package residency

// ReleaseExecutable does nothing where the process's mappings cannot be
// read the Linux way; it reports no bytes advised.
func ReleaseExecutable() (uint64, error) { return 0, nil }
