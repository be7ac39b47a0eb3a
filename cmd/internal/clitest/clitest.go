// Package clitest runs a command tree in-process for the tests of both
// binaries' commands.
package clitest

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// Run executes root with args, stdin and the given environment (set for
// the test only) and returns what it wrote to stdout and stderr.
func Run(t *testing.T, root *cobra.Command, env map[string]string, stdin string, args ...string) (string, error) {
	t.Helper()
	for k, v := range env {
		t.Setenv(k, v)
	}
	var out bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetIn(strings.NewReader(stdin))
	root.SetContext(context.Background())
	err := root.Execute()
	return out.String(), err
}
