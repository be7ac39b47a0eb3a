package authapi_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/metrics"
	"github.com/acme/monolith/platform/testkit"
)

// TestAuthMetrics: the module's counters, registered on the platform's
// registry, are on /metrics under the names the dashboards and alerts use.
func TestAuthMetrics(t *testing.T) {
	var srv *metrics.Server
	app := apptest.Start(t, testkit.NewDB(t, "sqlite3"), testkit.WithFx(fx.Populate(&srv)))
	u := app.NewUser(false)
	app.Login(u.Email, u.Password)
	bad := url.Values{"grant_type": {"password"}, "username": {u.Email}, "password": {"wrong password!"}}
	if res := app.Do(http.MethodPost, "/api/auth/login", bad); res.Status != http.StatusBadRequest {
		t.Fatalf("bad login: %d", res.Status)
	}
	res, err := http.Get("http://" + srv.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	b, _ := io.ReadAll(res.Body)
	for _, want := range []string{
		`auth_logins_total{result="ok"} `, // the superuser's logins and the user's
		`auth_logins_total{result="failed"} 1`,
		"auth_throttled_total 0",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
