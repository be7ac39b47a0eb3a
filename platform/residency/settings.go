package residency

import (
	"go.uber.org/fx"

	"github.com/acme/monolith/platform/config"
)

// Settings says whether a ready process releases its start-up pages.
type Settings struct {
	Release bool "env:\"RELEASE_STARTUP_PAGES\" envDefault:\"true\" doc:\"once ready, `serve` and `worker` drop from their resident set the pages of the binary that start-up alone touched (Linux; they stay in the page cache, see [performance.md](performance.md)); false keeps them, for a debugger or an eBPF agent that sets breakpoints or uprobes in the code while the process starts, which a release at that moment would drop\""
}

// Module declares the section; `serve` and `worker` read it.
var Module = fx.Module("residency", config.Provide[Settings]("process memory", "what a ready process keeps resident"))
