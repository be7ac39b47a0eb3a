// Package metrics exposes Prometheus metrics on their own listener
// (METRICS_ADDR), apart from the API so they never leave through the
// ingress: HTTP requests per route template and status, in-flight requests,
// the database pool, the Go runtime, and the modules' own collectors,
// which they register through the prometheus.Registerer the platform
// provides (Registerer).
package metrics

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform/config"
)

// Registry holds every collector of the process. It is not the global
// prometheus registry, so tests that start several apps do not collide.
type Registry struct {
	reg  *prometheus.Registry
	HTTP *HTTP
}

// New registers the runtime, process and pool collectors and the
// application's own metrics.
func New(db *sql.DB) *Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(db, "main"),
	)
	r := &Registry{reg: reg, HTTP: newHTTP()}
	reg.MustRegister(r.HTTP.requests, r.HTTP.duration, r.HTTP.inFlight)
	return r
}

// Registerer is where a module registers its collectors; they are served
// on /metrics with the platform's. A name registered twice is an error
// (prometheus.AlreadyRegisteredError).
func (r *Registry) Registerer() prometheus.Registerer { return r.reg }

// HashingStats are the password hasher's counters (platform/password).
type HashingStats struct {
	Computed, Busy, TimedOut, ClientGone uint64
	Waiting                              int64
}

// ObserveHashing exports the password hasher's counters, read at scrape
// time: hashes computed, requests refused (queue full, wait timed out,
// client gone) and requests waiting for a slot.
func (r *Registry) ObserveHashing(read func() HashingStats) {
	refused := func(reason string, f func(HashingStats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "password_hash_refused_total", Help: "Password hashes not computed, by reason: busy (queue full), timeout (waited too long), client_gone.",
			ConstLabels: prometheus.Labels{"reason": reason},
		}, func() float64 { return float64(f(read())) })
	}
	r.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "password_hashes_total", Help: "Password hashes and verifications computed.",
		}, func() float64 { return float64(read().Computed) }),
		refused("busy", func(s HashingStats) uint64 { return s.Busy }),
		refused("timeout", func(s HashingStats) uint64 { return s.TimedOut }),
		refused("client_gone", func(s HashingStats) uint64 { return s.ClientGone }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "password_hash_waiting", Help: "Requests waiting for a password-hashing slot.",
		}, func() float64 { return float64(read().Waiting) }),
	)
}

// Handler serves the registry in the Prometheus text format.
func (r *Registry) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg})
}

// Gatherer exposes the registry to tests.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// HTTP are the request metrics recorded by the server's middleware.
type HTTP struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

func newHTTP() *HTTP {
	labels := []string{"method", "route", "status"}
	return &HTTP{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total", Help: "HTTP requests served, by route template and status.",
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "http_request_duration_seconds", Help: "HTTP request latency, by route template and status.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, labels),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "http_requests_in_flight", Help: "HTTP requests being served now.",
		}),
	}
}

// Unmatched is the route label of requests no route matched: labelling them
// by raw path would let any client create unbounded series.
const Unmatched = "unmatched"

// Middleware records every request. It must run outermost, so the status
// it reads is the one the client gets.
func (h *HTTP) Middleware() fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		h.inFlight.Inc()
		defer h.inFlight.Dec()
		err := c.Next()
		route := c.Route().Path
		status := c.Response().StatusCode()
		if status == http.StatusNotFound && route == "/" && c.Path() != "/" {
			route = Unmatched
		}
		// fasthttp reuses the request's buffers: labels outlive it, so copy.
		l := prometheus.Labels{"method": strings.Clone(c.Method()), "route": strings.Clone(route), "status": strconv.Itoa(status)}
		h.requests.With(l).Inc()
		h.duration.With(l).Observe(time.Since(start).Seconds())
		return err
	}
}

// Server serves /metrics on METRICS_ADDR.
type Server struct {
	mux *http.ServeMux
	srv *http.Server
	ln  net.Listener
	cfg config.Telemetry
	log *zap.Logger
}

// NewServer returns the listener's server; it binds on Start.
func NewServer(cfg config.Telemetry, reg *Registry, log *zap.Logger) *Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", reg.Handler())
	return &Server{
		mux: mux, cfg: cfg, log: log,
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second},
	}
}

// Handle serves h on pattern beside /metrics: a process without the API
// (`app worker`) answers its probes here. Call it before Start.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Enabled reports whether METRICS_ADDR is not "off".
func (s *Server) Enabled() bool { return s.cfg.MetricsAddr != config.MetricsOff }

// Addr is the bound address once started ("" when disabled).
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Start binds synchronously (a taken port fails the start), then serves.
func (s *Server) Start(context.Context) error {
	if !s.Enabled() {
		return nil
	}
	ln, err := net.Listen("tcp", s.cfg.MetricsAddr)
	if err != nil {
		return fmt.Errorf("listen on METRICS_ADDR %s: %w", s.cfg.MetricsAddr, err)
	}
	s.ln = ln
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("metrics server stopped", zap.Error(err))
		}
	}()
	s.log.Info("metrics listening", zap.String("addr", s.Addr()))
	return nil
}

// Stop closes the listener after the API has drained (fx stops in reverse
// order), so the last scrape still sees the shutdown.
func (s *Server) Stop(ctx context.Context) error {
	if s.ln == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}
