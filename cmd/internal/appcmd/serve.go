package appcmd

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/jobs"
	"github.com/acme/monolith/platform/metrics"
	"github.com/acme/monolith/platform/residency"
)

// serveCmd serves the application; debugGraph adds to it what the
// development binary adds (nil: nothing).
func serveCmd(debugGraph func(config.Config) fx.Option) *cobra.Command {
	if debugGraph == nil {
		debugGraph = func(config.Config) fx.Option { return fx.Options() }
	}
	return &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API until SIGINT or SIGTERM",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			src, err := config.NewSource()
			if err != nil {
				return err
			}
			if err := config.Check(src); err != nil {
				return err
			}
			cfg, err := config.FromSource(src)
			if err != nil {
				return err
			}
			// fx's default 15 s stop budget would cut the drain short: give
			// it the shutdown delay and timeout plus time to close the pool.
			// The job runner, when this process works jobs, stops after the
			// drain within its own timeout.
			stop := cfg.HTTP.ShutdownDelay + cfg.HTTP.ShutdownTimeout + 5*time.Second
			if js, err := config.Parse[jobs.Settings](src); err == nil && js.Work {
				stop += js.ShutdownTimeout
			}
			var (
				log   *zap.Logger
				pages residency.Settings
			)
			app := fx.New(appOptions(platform.WithConfig(cfg), fx.Invoke(serveMetrics, serveJobs, announce), residency.Module, fx.Populate(&log, &pages), fx.StopTimeout(stop), debugGraph(cfg)))
			if err := app.Err(); err != nil {
				return err
			}
			return serveUntilSignal(app, log, pages)
		},
	}
}

// serveUntilSignal is fx's App.Run, except that a failed start or stop is returned
// (and printed once by main) instead of being logged by fx and ending the
// process from inside fx, and that once started the process gives back
// the memory only its start used.
func serveUntilSignal(app *fx.App, log *zap.Logger, pages residency.Settings) error {
	// fx catches SIGINT and SIGTERM from the first Wait, not from Start:
	// asked only after the start, a signal that came while the hooks ran
	// or just after (a pod deleted as it became ready) would kill the
	// process instead of stopping it.
	signals := app.Wait()
	startCtx, cancel := context.WithTimeout(context.Background(), app.StartTimeout())
	defer cancel()
	if err := app.Start(startCtx); err != nil {
		return err
	}
	// Building the graph and the OpenAPI document leaves garbage the
	// runtime would hand back to the OS only over minutes: return it now,
	// once, so an idle replica holds what it uses.
	debug.FreeOSMemory()
	if pages.Release {
		releaseStartupPages(log)
	} else {
		log.Info("start-up pages of the executable kept (RELEASE_STARTUP_PAGES=false)")
	}
	sig := <-signals
	stopCtx, cancel := context.WithTimeout(context.Background(), app.StopTimeout())
	defer cancel()
	if err := app.Stop(stopCtx); err != nil {
		return fmt.Errorf("stop after %s: %w", sig.Signal, err)
	}
	if sig.ExitCode != 0 {
		return exitCode(sig.ExitCode)
	}
	return nil
}

// releaseStartupPages drops the binary's pages that start-up alone touched
// from the resident set: they stay in the page cache, and what serving
// runs maps them again on first use.
func releaseStartupPages(log *zap.Logger) {
	n, err := residency.ReleaseExecutable()
	switch {
	case errors.Is(err, errors.ErrUnsupported):
		// not Linux: nothing to say on a developer's machine
	case err != nil:
		log.Warn("start-up pages of the executable: release failed", zap.Uint64("advised_bytes", n), zap.Error(err))
	case n == 0:
		log.Warn("start-up pages of the executable: none released")
	default:
		log.Info("start-up pages of the executable released", zap.Uint64("advised_bytes", n))
	}
}

// announce prints where to go once the server listens.
func announce(lc fx.Lifecycle, s *httpserver.Server, cfg config.Config, log *zap.Logger) {
	lc.Append(fx.Hook{OnStart: func(context.Context) error {
		base := "http://" + strings.Replace(s.Addr(), "0.0.0.0", "127.0.0.1", 1)
		fields := []zap.Field{zap.String("url", base), zap.String("env", cfg.Env)}
		if cfg.HTTP.Docs {
			fields = append(fields, zap.String("docs", base+"/docs"))
		}
		log.Info("ready", fields...)
		if !cfg.IsProduction() && cfg.HTTP.Docs {
			fmt.Printf("\n  API docs: %s/docs\n\n", base)
		}
		return nil
	}})
}

// serveMetrics asks for the /metrics listener, which nothing else depends
// on, so that `serve` (and only serve) runs it. It is invoked before the
// HTTP server is built, so it starts first and stops after the drain: the
// last scrapes see the shutdown.
func serveMetrics(*metrics.Server) {}

// serveJobs asks for the job runner, so that serve (and no one-shot
// command) works jobs when JOBS_WORK allows. Invoked before the HTTP
// server is built, its workers stop after the HTTP drain, finishing the
// jobs requests enqueued last.
func serveJobs(*jobs.Runner) {}
