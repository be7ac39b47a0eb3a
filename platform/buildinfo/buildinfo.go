// Package buildinfo holds the version stamped into the binary.
package buildinfo

import "runtime/debug"

// Version is set at link time: -ldflags "-X github.com/acme/monolith/platform/buildinfo.Version=v1.2.3".
var Version = ""

// String returns the stamped version, else the VCS revision Go recorded,
// else "dev".
func String() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			if dirty {
				rev += "-dirty"
			}
			return rev
		}
	}
	return "dev"
}
