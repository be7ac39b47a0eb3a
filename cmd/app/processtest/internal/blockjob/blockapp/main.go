// Command blockapp is the serving binary with one more module, the
// blockjob worker: the process tests run it as they run cmd/app (serve,
// worker, migrate...), to work a job they control.
package main

import (
	"github.com/acme/monolith/cmd/app/modules"
	"github.com/acme/monolith/cmd/app/processtest/internal/blockjob"
	"github.com/acme/monolith/cmd/internal/appcmd"
)

func main() {
	modules.All = append(modules.All, blockjob.Module)
	appcmd.Execute(appcmd.NewRoot(nil))
}
