// Package devcmd holds the development tools of cmd/app-dev: the module
// generator (new module), the dependency graph (graph, /debug/graph),
// migration authoring (migrate diff|lint|hash) and the generated documents
// (openapi, errors). The serving binary links none of it, so `serve` pays
// for them neither at start nor in memory.
package devcmd

import (
	"github.com/spf13/cobra"

	"github.com/acme/monolith/cmd/internal/appcmd"
)

// appOptions is the whole application, as the serving binary builds it.
var appOptions = appcmd.AppOptions

// NewRoot is the development binary's command tree: the serving binary's
// with the tools added, and /debug/graph served in development.
func NewRoot() *cobra.Command {
	root := appcmd.NewRoot(debugGraph)
	root.AddCommand(graphCmd(), openapiCmd(), errorsCmd(), newCmd())
	for _, c := range root.Commands() {
		if c.Name() == "migrate" {
			c.AddCommand(migrateDiffCmd(), migrateLintCmd(), migrateHashCmd(), migrateRebaseCmd())
			c.Short = "Apply, inspect and generate database migrations"
		}
	}
	return root
}
