// Package cmdtest runs the serving binary's command tree in-process, as
// `app ARGS...` would, for the tests of the commands modules contribute
// (cli.Provide): a module cannot import cmd/internal, and apptest cannot
// hold this, since the command package's own tests import apptest.
package cmdtest

import (
	"testing"

	"github.com/acme/monolith/cmd/internal/appcmd"
	"github.com/acme/monolith/cmd/internal/clitest"
)

// Run executes `app args...` with the given environment (set for the test
// only, so the test must not be parallel) and stdin, and returns what the
// command wrote to stdout and stderr.
func Run(t *testing.T, env map[string]string, stdin string, args ...string) (string, error) {
	t.Helper()
	return clitest.Run(t, appcmd.NewRoot(nil), env, stdin, args...)
}
