package appcmd

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/health"
	"github.com/acme/monolith/platform/jobs"
	"github.com/acme/monolith/platform/metrics"
	"github.com/acme/monolith/platform/residency"
)

// workerCmd works jobs without serving the API: the process of a worker
// Deployment, from the same image as the web one (which runs `serve` with
// JOBS_WORK=false). Like the modules' commands it builds only what its
// graph needs, so it validates only those settings: the workers' services
// and the database, never the HTTP edge.
func workerCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "worker",
		Short: "Work background jobs until SIGINT or SIGTERM, without the API; /livez, /readyz and /metrics on METRICS_ADDR",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			src, err := config.NewSource()
			if err != nil {
				return err
			}
			settings, err := config.Parse[jobs.Settings](src)
			if err != nil {
				return err
			}
			tel, err := config.LoadSectionsFrom(src.Lookup, config.TelemetrySection)
			if err != nil {
				return err
			}
			if tel.Telemetry.MetricsAddr == config.MetricsOff {
				return errors.New("METRICS_ADDR: `app worker` answers its probes (/livez, /readyz) and /metrics there: set an address, not off")
			}
			var (
				log   *zap.Logger
				pages residency.Settings
			)
			app := fx.New(appOptions(
				residency.Module,
				fx.Populate(&log, &pages),
				// JOBS_WORK is serve's choice; a worker always works.
				fx.Decorate(func(s jobs.Settings) jobs.Settings { s.Work = true; return s }),
				fx.Invoke(serveWorker),
				// The runner bounds its own stop; the rest closes the pool.
				fx.StopTimeout(settings.ShutdownTimeout+5*time.Second),
			))
			if err := app.Err(); err != nil {
				return err
			}
			return serveUntilSignal(app, log, pages)
		},
	}
}

// serveWorker puts the probes on the metrics listener and starts the
// runner. Hooks stop in reverse: readiness fails first, then the runner
// stops fetching and finishes (or hands back) its jobs, then the listener
// and the pool close, so probes and the last scrapes see the whole stop.
func serveWorker(lc fx.Lifecycle, m *metrics.Server, _ *jobs.Runner, h *health.Registry, log *zap.Logger) {
	m.Handle("GET /livez", health.LiveHandler())
	m.Handle("GET /readyz", h.ReadyHandler(3*time.Second))
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			log.Info("worker ready", zap.String("probes", "http://"+m.Addr()))
			return nil
		},
		OnStop: func(context.Context) error {
			h.Drain()
			log.Info("draining: readiness fails, stopping the workers")
			return nil
		},
	})
}
