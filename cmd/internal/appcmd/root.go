// Package appcmd holds the commands of the serving binary (cmd/app): serve,
// migrate up|status, keys, users, version. The development binary
// (cmd/app-dev) has the same tree plus the tools of package devcmd.
package appcmd

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

// Execute runs root as main of either binary: a failed command prints one
// line for the operator and sets the exit status.
func Execute(root *cobra.Command) {
	err := root.Execute()
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

// NewRoot is the serving binary's command tree. serveDev adds to the
// application `serve` runs (the development binary's /debug/graph); nil
// adds nothing.
func NewRoot(serveDev func(config.Config) fx.Option) *cobra.Command {
	root := &cobra.Command{
		Use:           "app",
		Short:         "The modular monolith: API server, migrations and administration",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(serveCmd(serveDev), migrateCmd(), usersCmd(), versionCmd(), keysCmd())
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

// AppOptions is appOptions, for the development tools that build the
// application without serving it.
var AppOptions = appOptions

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
