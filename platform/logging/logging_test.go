package logging_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/logging"
)

var stackLine = regexp.MustCompile(`(?m)^\s+\S+\.go:\d+`)

// TestStackTracesOnlyForPanics: an error is logged as one entry without
// the stack of the logging call (a failed start used to print three);
// DPanic, the "should never happen" level, keeps its stack. Both the
// development console and the production JSON logger.
func TestStackTracesOnlyForPanics(t *testing.T) {
	for _, env := range []string{config.Development, config.Production} {
		t.Run(env, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "stderr")
			f, err := os.Create(out)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			saved := os.Stderr
			os.Stderr = f // zap opens its "stderr" sink when the logger is built
			log, err := logging.New(config.Config{Env: env, LogLevel: "info"})
			os.Stderr = saved
			if err != nil {
				t.Fatal(err)
			}
			log.Error("an operator error")
			_ = log.Sync()
			b, _ := os.ReadFile(out)
			if stackLine.Match(b) || regexp.MustCompile(`"stacktrace"`).Match(b) {
				t.Fatalf("an error log carries a stack trace:\n%s", b)
			}
			log.DPanic("a bug")
			_ = log.Sync()
			b, _ = os.ReadFile(out)
			if !stackLine.Match(b) && !regexp.MustCompile(`"stacktrace":".+\.go:\d+`).Match(b) {
				t.Fatalf("DPanic lost its stack trace:\n%s", b)
			}
		})
	}
}
