package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/metrics"
)

func serveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP API until SIGINT or SIGTERM",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cfg, err := config.Load()
			if err != nil {
				return err
			}
			// fx's default 15 s stop budget would cut the drain short: give
			// it the shutdown delay and timeout plus time to close the pool.
			stop := cfg.HTTP.ShutdownDelay + cfg.HTTP.ShutdownTimeout + 5*time.Second
			app := fx.New(appOptions(cfg, fx.Invoke(announce, serveMetrics), fx.StopTimeout(stop), debugGraph(cfg)))
			if err := app.Err(); err != nil {
				return err
			}
			app.Run()
			return nil
		},
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
// on, so that `serve` (and only serve) runs it.
func serveMetrics(*metrics.Server) {}
