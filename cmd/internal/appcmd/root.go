// Package appcmd holds the commands of the serving binary (cmd/app): serve,
// worker, migrate up|status, config, version, and the modules' own commands (keys, users). The development binary
// (cmd/app-dev) has the same tree plus the tools of package devcmd.
package appcmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"

	"github.com/spf13/cobra"
	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/modules"
	"github.com/acme/monolith/platform"
	"github.com/acme/monolith/platform/buildinfo"
	"github.com/acme/monolith/platform/cli"
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
	root.AddCommand(serveCmd(serveDev), workerCmd(), migrateCmd(), versionCmd(), configCmd())
	// The modules' own commands (app keys, app users...).
	cli.AddTo(root, runInApp)
	return root
}

// appOptions is the whole application: the platform and every module.
// Each settings section is read when first needed; a command that must
// report every bad variable first (serve) checks them before fx starts.
func appOptions(extra ...fx.Option) fx.Option {
	opts := []fx.Option{platform.Module, platform.Logger}
	opts = append(opts, modules.All...)
	return fx.Options(append(opts, extra...)...)
}

// AppOptions is appOptions, for the development tools that build the
// application without serving it.
var AppOptions = appOptions

var contextType = reflect.TypeFor[context.Context]()

// runInApp is the cli.Run of the modules' commands: fn's parameters come
// from the application graph, whose lifecycle runs around the call. Only
// what fn needs is built, so a command validates only the settings it
// uses and opens no listener.
func runInApp(cmd *cobra.Command, fn any) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	fv := reflect.ValueOf(fn)
	ft := fv.Type()
	if ft.Kind() != reflect.Func || ft.NumOut() != 1 || ft.Out(0) != reflect.TypeFor[error]() {
		return fmt.Errorf("%s: a command's function returns an error, not %s", cmd.CommandPath(), ft)
	}
	var params []reflect.Type
	for i := range ft.NumIn() {
		if ft.In(i) != contextType {
			params = append(params, ft.In(i))
		}
	}
	var got []reflect.Value
	capture := reflect.MakeFunc(reflect.FuncOf(params, nil, false), func(args []reflect.Value) []reflect.Value {
		got = args
		return nil
	})
	app := fx.New(appOptions(fx.Invoke(capture.Interface())))
	if err := app.Err(); err != nil {
		return err
	}
	startCtx, cancel := context.WithTimeout(ctx, app.StartTimeout())
	defer cancel()
	if err := app.Start(startCtx); err != nil {
		return err
	}
	defer func() { _ = app.Stop(context.WithoutCancel(ctx)) }()
	args := make([]reflect.Value, 0, ft.NumIn())
	for i := range ft.NumIn() {
		if ft.In(i) == contextType {
			args = append(args, reflect.ValueOf(ctx))
			continue
		}
		args, got = append(args, got[0]), got[1:]
	}
	if err, _ := fv.Call(args)[0].Interface().(error); err != nil {
		return err
	}
	return nil
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
