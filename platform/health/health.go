// Package health aggregates readiness checks. Any module can contribute a
// check by providing it with health.AsCheck; /readyz runs them all.
package health

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/fx"
)

// Check is one dependency the service needs to serve traffic.
type Check interface {
	Name() string
	Check(ctx context.Context) error
}

// AsCheck annotates a constructor so its result joins the readiness checks.
func AsCheck(constructor any) any {
	return fx.Annotate(constructor, fx.As(new(Check)), fx.ResultTags(`group:"health_checks"`))
}

// Registry runs every registered check and knows whether the process is
// draining (then it is not ready, whatever the checks say).
type Registry struct {
	checks   []Check
	draining atomic.Bool
}

// RegistryParams collects the checks from the fx value group.
type RegistryParams struct {
	fx.In
	Checks []Check `group:"health_checks"`
}

// NewRegistry returns a registry over the grouped checks.
func NewRegistry(p RegistryParams) *Registry { return &Registry{checks: p.Checks} }

// Drain marks the process as shutting down: readiness fails from now on.
func (r *Registry) Drain() { r.draining.Store(true) }

// Draining reports whether Drain was called.
func (r *Registry) Draining() bool { return r.draining.Load() }

// Result is the outcome of all checks; Failed maps a check's name to its error.
type Result struct {
	OK     bool
	Checks map[string]string
}

// Run runs the checks concurrently.
func (r *Registry) Run(ctx context.Context) Result {
	res := Result{OK: !r.Draining(), Checks: make(map[string]string, len(r.checks))}
	if r.Draining() {
		res.Checks["shutdown"] = "draining"
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, c := range r.checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status := "ok"
			err := c.Check(ctx)
			if err != nil {
				status = "unavailable"
			}
			mu.Lock()
			defer mu.Unlock()
			res.Checks[c.Name()] = status
			if err != nil {
				res.OK = false
			}
		}()
	}
	wg.Wait()
	return res
}

// LiveHandler answers liveness: the process is up. It checks no
// dependency, so a database outage does not restart every pod.
func LiveHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
}

// ReadyHandler answers readiness as the API's /readyz does, on a plain
// net/http listener (a process that serves no API: `app worker`): 200
// while every check passes within timeout, 503 once one fails or the
// process drains.
func (r *Registry) ReadyHandler(timeout time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx, cancel := context.WithTimeout(req.Context(), timeout)
		defer cancel()
		res := r.Run(ctx)
		status, word := http.StatusOK, "ok"
		if !res.OK {
			status, word = http.StatusServiceUnavailable, "unavailable"
		}
		writeJSON(w, status, map[string]any{"status": word, "checks": res.Checks})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
