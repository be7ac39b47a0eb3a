package health_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/health"
	"github.com/acme/monolith/platform/testkit"
)

// queueCheck is what a module would contribute: a dependency of its own.
type queueCheck struct{ down *atomic.Bool }

func (queueCheck) Name() string { return "queue" }

func (q queueCheck) Check(context.Context) error {
	if q.down.Load() {
		return errors.New("queue unreachable")
	}
	return nil
}

// TestModulesContributeReadinessChecks: a check provided with
// health.AsCheck joins /readyz beside the database's, and its failure
// alone makes the instance not ready.
func TestModulesContributeReadinessChecks(t *testing.T) {
	down := &atomic.Bool{}
	app := apptest.Start(t, testkit.NewDB(t, "sqlite3"), testkit.WithFx(
		fx.Provide(health.AsCheck(func() queueCheck { return queueCheck{down: down} })),
	))
	res := app.Do(http.MethodGet, "/readyz", nil)
	if res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"queue":"ok"`) || !strings.Contains(string(res.Body), `"database":"ok"`) {
		t.Fatalf("readyz: %d %s", res.Status, res.Body)
	}
	down.Store(true)
	res = app.Do(http.MethodGet, "/readyz", nil)
	if res.Status != http.StatusServiceUnavailable || !strings.Contains(string(res.Body), `"queue":"unavailable"`) {
		t.Fatalf("readyz with the queue down: %d %s", res.Status, res.Body)
	}
	if strings.Contains(string(res.Body), "unreachable") {
		t.Fatal("readyz leaks a check's error text")
	}
}
