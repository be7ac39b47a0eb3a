// Command app is the service's one binary: it serves the API, runs
// migrations, administers users and draws the dependency graph.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/modules"
	"github.com/acme/monolith/platform"
	"github.com/acme/monolith/platform/buildinfo"
	"github.com/acme/monolith/platform/config"
)

func main() {
	err := newRoot().Execute()
	var code exitCode
	switch {
	case err == nil:
	case errors.As(err, &code):
		os.Exit(int(code))
	default:
		fmt.Fprintln(os.Stderr, "error:", operatorMessage(err))
		os.Exit(1)
	}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "app",
		Short:         "The modular monolith: API server, migrations and administration",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(), migrateCmd(), usersCmd(), graphCmd(), openapiCmd(), errorsCmd(), versionCmd(), newCmd(), keysCmd())
	return root
}

// appOptions is the whole application: the platform, every module, and the
// configuration already loaded (so a bad variable is reported plainly,
// before fx starts).
func appOptions(cfg config.Config, extra ...fx.Option) fx.Option {
	opts := []fx.Option{platform.Module, platform.Logger, fx.Replace(cfg)}
	opts = append(opts, modules.All...)
	return fx.Options(append(opts, extra...)...)
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintln(cmd.OutOrStdout(), buildinfo.String())
		},
	}
}
