package metrics_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/metrics"
	"github.com/acme/monolith/platform/testkit"
)

func scrape(t *testing.T, addr string) string {
	t.Helper()
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("/metrics: %d %s", res.StatusCode, b)
	}
	return string(b)
}

func TestMetricsEndpoint(t *testing.T) {
	var srv *metrics.Server
	app := apptest.Start(t, testkit.NewDB(t, "sqlite3"), testkit.WithFx(fx.Populate(&srv)))
	if srv.Addr() == "" {
		t.Fatal("metrics listener not started")
	}
	u := app.NewUser(false)
	token := app.Login(u.Email, u.Password)
	bad := url.Values{"grant_type": {"password"}, "username": {u.Email}, "password": {"wrong password!"}}
	if res := app.Do(http.MethodPost, "/api/auth/login", bad); res.Status != http.StatusBadRequest {
		t.Fatalf("bad login: %d", res.Status)
	}
	app.Do(http.MethodGet, "/api/users/"+u.ID.String(), nil, testkit.Bearer(token))
	app.Do(http.MethodGet, "/api/no/such/route/7f3a", nil)

	// /metrics is not on the API port: it must not leave through the ingress.
	if res := app.Do(http.MethodGet, "/metrics", nil); res.Status != http.StatusNotFound {
		t.Fatalf("API port serves /metrics: %d", res.Status)
	}

	body := scrape(t, srv.Addr())
	for _, want := range []string{
		`http_requests_total{method="GET",route="/api/users/:id",status="403"} 1`,
		`http_request_duration_seconds_count{method="GET",route="/api/users/:id",status="403"} 1`,
		`http_requests_total{method="GET",route="unmatched",status="404"} 2`, // the route and /metrics
		`http_requests_total{method="POST",route="/api/auth/login",status="400"} 1`,
		"http_requests_in_flight ",
		`go_sql_max_open_connections{db_name="main"}`,
		"go_goroutines ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Control: raw paths never become labels (unbounded series).
	if strings.Contains(body, "7f3a") || strings.Contains(body, u.ID.String()) {
		t.Error("a raw path leaked into a metric label")
	}
}

func TestMetricsCanBeTurnedOff(t *testing.T) {
	var srv *metrics.Server
	apptest.Start(t, testkit.NewDB(t, "sqlite3"), testkit.WithFx(fx.Populate(&srv)),
		testkit.WithConfig(func(c *config.Config) { c.Telemetry.MetricsAddr = "off" }))
	if srv.Addr() != "" {
		t.Fatalf("metrics listening on %s with METRICS_ADDR=off", srv.Addr())
	}
}

// TestModulesRegisterTheirCollectors: a module's collector, registered
// through the injected prometheus.Registerer, is served on /metrics with
// the platform's; a second collector of the same name is refused.
func TestModulesRegisterTheirCollectors(t *testing.T) {
	var srv *metrics.Server
	var dup error
	counted := fx.Invoke(func(reg prometheus.Registerer) error {
		c := prometheus.NewCounter(prometheus.CounterOpts{Name: "sample_module_events_total", Help: "A module's counter."})
		if err := reg.Register(c); err != nil {
			return err
		}
		c.Add(3)
		dup = reg.Register(prometheus.NewCounter(prometheus.CounterOpts{Name: "sample_module_events_total", Help: "A module's counter."}))
		return nil
	})
	apptest.Start(t, testkit.NewDB(t, "sqlite3"), testkit.WithFx(counted, fx.Populate(&srv)))
	if body := scrape(t, srv.Addr()); !strings.Contains(body, "sample_module_events_total 3") {
		t.Fatalf("/metrics lacks the module's counter:\n%s", body)
	}
	var already prometheus.AlreadyRegisteredError
	if !errors.As(dup, &already) {
		t.Fatalf("a second collector of the same name: %v", dup)
	}
}
