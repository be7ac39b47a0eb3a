package authapi

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Events counts authentication events for /metrics: the auth module's
// own collectors, registered on the platform's registry.
type Events struct {
	logins    *prometheus.CounterVec
	refreshes *prometheus.CounterVec
	throttled prometheus.Counter
}

// Results of an authentication event.
const (
	ResultOK     = "ok"
	ResultFailed = "failed" // the client's fault: bad credentials or token
	ResultError  = "error"  // ours: the server could not decide
)

// NewEvents registers the counters on reg. Their names are what the
// dashboards and deploy/'s alerts query.
func NewEvents(reg prometheus.Registerer) (*Events, error) {
	e := &Events{
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "auth_logins_total", Help: "Token requests (password grant), by result: ok, failed, error.",
		}, []string{"result"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "auth_refreshes_total", Help: "Refresh-token exchanges, by result: ok, failed, error.",
		}, []string{"result"}),
		throttled: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "auth_throttled_total", Help: "Authentication attempts refused by throttling.",
		}),
	}
	for _, c := range []prometheus.Collector{e.logins, e.refreshes, e.throttled} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register auth metrics: %w", err)
		}
	}
	return e, nil
}

// Login records a password-grant attempt.
func (e *Events) Login(result string) { e.logins.WithLabelValues(result).Inc() }

// Refresh records a refresh-token exchange.
func (e *Events) Refresh(result string) { e.refreshes.WithLabelValues(result).Inc() }

// Throttled records an attempt refused by throttling.
func (e *Events) Throttled() { e.throttled.Inc() }
