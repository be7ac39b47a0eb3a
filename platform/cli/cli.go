// Package cli lets a module contribute commands to the binary. A command
// runs inside the same application graph as `serve`: its function names
// what it needs (a service, the key ring, a settings section) and gets it
// from the module's own constructors, so nothing is wired twice, and only
// what it needs is built and started (no HTTP listener).
package cli

import (
	"sync"

	"github.com/spf13/cobra"
	"go.uber.org/fx"
)

// Run runs fn inside the application: it builds the graph, resolves fn's
// parameters from it (a context.Context parameter gets the command's
// context), starts the lifecycle, calls fn and stops. fn returns an error.
type Run func(cmd *cobra.Command, fn any) error

// Command builds a module's command; its RunE reaches the application
// through run.
type Command func(run Run) *cobra.Command

// Entry is a contributed command in the "commands" value group, so the
// dependency graph shows what each module adds to the binary.
type Entry struct{ Name string }

var (
	mu       sync.Mutex
	commands []Command
)

// Provide contributes the command c builds. The binary assembles its
// command tree before it builds any graph (which command to run decides
// what to build), so c is recorded as the module's package is
// initialised, as its fx.Module is declared; the option adds c's Entry to
// the "commands" group.
func Provide(c Command) fx.Option {
	mu.Lock()
	commands = append(commands, c)
	mu.Unlock()
	name := c(func(*cobra.Command, any) error { return nil }).Name()
	return fx.Provide(fx.Annotate(func() Entry { return Entry{Name: name} }, fx.ResultTags(`group:"commands"`)))
}

// AddTo adds every contributed command to root, run reaching the
// application. A command whose name root already has adds its
// subcommands to it, so two modules may share a parent.
func AddTo(root *cobra.Command, run Run) {
	mu.Lock()
	defer mu.Unlock()
	for _, c := range commands {
		cmd := c(run)
		if existing := find(root, cmd.Name()); existing != nil {
			existing.AddCommand(cmd.Commands()...)
			continue
		}
		root.AddCommand(cmd)
	}
}

func find(root *cobra.Command, name string) *cobra.Command {
	for _, c := range root.Commands() {
		if c.Name() == name {
			return c
		}
	}
	return nil
}
