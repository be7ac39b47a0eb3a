package httpserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform/config"
)

// StartPprof serves the runtime profiles (/debug/pprof/...) on their own
// listener when DEBUG_PPROF_ADDR is set. Config only accepts loopback
// addresses, and the API port never routes to them: profiles reveal
// internals and a CPU profile costs CPU. The benchmark harness reads
// goroutine counts from it during the soak.
func StartPprof(lc fx.Lifecycle, cfg config.HTTP, log *zap.Logger) {
	if cfg.PprofAddr == "" {
		return
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	lc.Append(fx.Hook{
		OnStart: func(context.Context) error {
			ln, err := net.Listen("tcp", cfg.PprofAddr)
			if err != nil {
				return fmt.Errorf("listen on DEBUG_PPROF_ADDR %s: %w", cfg.PprofAddr, err)
			}
			go func() {
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error("pprof server stopped", zap.Error(err))
				}
			}()
			log.Info("pprof listening", zap.String("addr", ln.Addr().String()))
			return nil
		},
		OnStop: func(ctx context.Context) error { return srv.Shutdown(ctx) },
	})
}
