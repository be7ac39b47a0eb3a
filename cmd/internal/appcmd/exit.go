package appcmd

import (
	"errors"
	"fmt"
	"strings"
	"syscall"

	"go.uber.org/dig"
)

// exitCode ends the process with a status other than 1 and nothing
// printed (a Shutdowner asked for it).
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit status %d", int(c)) }

// operatorMessage is the one line a failed command prints on stderr. The
// errors that end a command are an operator's to fix (a variable, the
// database, a busy port), so the line says what failed and what to do,
// without the wiring around it: fx.New reports a failed constructor
// inside dig's chain of "could not build arguments for function ...
// (file.go:NN)", of which only the root cause is the operator's business.
func operatorMessage(err error) string {
	if root := dig.RootCause(err); root != nil {
		err = root
	}
	msg := err.Error()
	if errors.Is(err, syscall.EADDRINUSE) {
		msg += " (another process listens there: stop it or choose a free address)"
	}
	lines := strings.FieldsFunc(msg, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(lines, "; ")
}
