// Package buildinfo holds what identifies the binary: the service's name
// and the version stamped into it.
package buildinfo

import (
	"runtime/debug"
	"strings"
)

// Service is the service's name, written here and nowhere else: the
// defaults of JWT_ISSUER, JWT_AUDIENCE and OTEL_SERVICE_NAME, the API's
// title, the tracer and the migration lock derive from it, and so do the
// Kubernetes objects (deploy/base/kustomization.yaml holds the same value).
// `make rename name=NAME` rewrites it with everything that cannot derive
// (docs/starting.md). A DNS-1123 label, because Kubernetes names carry it.
// A var, not a const, so that a build can set it like Version:
// -ldflags "-X <module>/platform/buildinfo.Service=NAME".
var Service = "monolith"

// Title is Service as a reader sees it in a heading: "shop" is
// "Shop".
func Title() string {
	if Service == "" {
		return ""
	}
	return strings.ToUpper(Service[:1]) + Service[1:]
}

// Version is set at link time: -ldflags "-X <module>/platform/buildinfo.Version=v1.2.3"
// (the Makefile and the Dockerfile take the module path from `go list -m`).
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
