// Command app-dev is the development binary: everything cmd/app does, plus
// the module generator, the dependency graph (and /debug/graph), migration
// authoring and the generated documents. It is never deployed.
package main

import (
	"github.com/acme/monolith/cmd/internal/appcmd"
	"github.com/acme/monolith/cmd/internal/devcmd"
)

func main() {
	appcmd.Execute(devcmd.NewRoot())
}
