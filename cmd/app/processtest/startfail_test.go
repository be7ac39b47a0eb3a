package processtest

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/acme/monolith/platform/testkit"
)

// stackLine matches the lines of a stack trace, as Go's panics and zap's
// stacktraces print them: a goroutine header, or an indented file:line.
var stackLine = regexp.MustCompile(`(?m)^(goroutine \d+ \[|\s+\S+\.go:\d+)`)

// failure is what an operator sees when a command refuses to run.
type failure struct {
	code   int
	stderr string
	last   string // the last non-empty line of stderr
}

// runFailing runs the binary with env and args, which must fail within a
// minute.
func runFailing(t *testing.T, env map[string]string, args ...string) failure {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = environ(env)
	cmd.Dir = t.TempDir() // development defaults write ./var here, not in the repository
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("%v: want a non-zero exit, got %v\nstdout:\n%s\nstderr:\n%s", args, err, stdout.String(), stderr.String())
	}
	f := failure{code: exit.ExitCode(), stderr: stderr.String()}
	lines := strings.Split(strings.TrimRight(f.stderr, "\n"), "\n")
	f.last = lines[len(lines)-1]
	return f
}

// requireOneClearLine: a non-zero exit, stderr ends with one "error:" line
// containing every want, no stack trace anywhere, and the message is
// printed once (fx used to log it three times before it was returned).
func (f failure) requireOneClearLine(t *testing.T, want ...string) {
	t.Helper()
	if f.code == 0 {
		t.Fatalf("exit code 0")
	}
	if !strings.HasPrefix(f.last, "error: ") {
		t.Fatalf("the last stderr line is not the error:\n%s", f.stderr)
	}
	for _, w := range want {
		if !strings.Contains(f.last, w) {
			t.Errorf("the last line does not say %q: %s", w, f.last)
		}
	}
	if m := stackLine.FindString(f.stderr); m != "" {
		t.Errorf("stderr holds a stack trace (%q):\n%s", m, f.stderr)
	}
	if n := strings.Count(f.stderr, strings.TrimPrefix(f.last, "error: ")); n != 1 {
		t.Errorf("the message appears %d times in stderr:\n%s", n, f.stderr)
	}
}

// TestFailedStartIsOneLine: the operator errors that stop `serve` (pending
// migrations, an invalid variable, an unreachable database, a busy port)
// end with one actionable line on stderr, exit 1, and no stack trace.
func TestFailedStartIsOneLine(t *testing.T) {
	sqlite := func(t *testing.T) map[string]string {
		return map[string]string{
			"DATABASE_URL":         "sqlite://" + filepath.Join(t.TempDir(), "app.db"),
			"JWT_PRIVATE_KEY_FILE": filepath.Join(t.TempDir(), "key.pem"),
			"HTTP_ADDR":            "127.0.0.1:0",
			"METRICS_ADDR":         "off",
		}
	}
	t.Run("pending-migrations-postgres", func(t *testing.T) {
		env := sqlite(t)
		env["DATABASE_URL"] = testkit.NewDatabaseURL(t, dialect.Postgres)
		runFailing(t, env, "serve").requireOneClearLine(t, "pending migration", "run `app migrate up` first")
	})
	t.Run("invalid-variable", func(t *testing.T) {
		env := sqlite(t)
		env["HTTP_READ_TIMEOUT"] = "soon"
		env["LOG_LEVEL"] = "loud" // two problems: still one line, naming both
		runFailing(t, env, "serve").requireOneClearLine(t, "HTTP_READ_TIMEOUT:", "LOG_LEVEL:")
	})
	t.Run("database-unreachable", func(t *testing.T) {
		env := sqlite(t)
		env["DATABASE_URL"] = "postgres://postgres@" + freeAddr(t) + "/app?sslmode=disable"
		runFailing(t, env, "serve").requireOneClearLine(t, "database unreachable (check DATABASE_URL)")
	})
	t.Run("port-in-use", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = ln.Close() }()
		env := sqlite(t)
		env["HTTP_ADDR"] = ln.Addr().String()
		runFailing(t, env, "serve").requireOneClearLine(t, "HTTP_ADDR "+ln.Addr().String(), "address already in use", "stop it or choose a free address")
	})
}
