package deploy_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/health"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/testkit"
)

// The probe paths of the manifests; TestOverlays checks the manifests use
// these, and the tests below check the application serves them so.
const (
	probeLive  = "/livez"
	probeReady = "/readyz"
)

// TestProbePathsAreRealRoutes: on the real application, both answer without
// credentials; liveness does not depend on the database, readiness does.
func TestProbePathsAreRealRoutes(t *testing.T) {
	app := apptest.Start(t, testkit.NewDB(t, "sqlite3"))
	for _, p := range []string{probeLive, probeReady} {
		if res := app.Do(http.MethodGet, p, nil); res.Status != http.StatusOK {
			t.Fatalf("%s without credentials: %d %s", p, res.Status, res.Body)
		}
	}
	// Control: an unknown path is not "ready".
	if res := app.Do(http.MethodGet, "/readyz-typo", nil); res.Status != http.StatusNotFound {
		t.Fatalf("unknown path: %d", res.Status)
	}
	_ = app.DB.SQL.Close()
	if res := app.Do(http.MethodGet, probeReady, nil); res.Status != http.StatusServiceUnavailable {
		t.Fatalf("%s with the database gone: %d", probeReady, res.Status)
	}
	if res := app.Do(http.MethodGet, probeLive, nil); res.Status != http.StatusOK {
		t.Fatalf("%s with the database gone: %d (liveness must not check dependencies)", probeLive, res.Status)
	}
}

// TestProbesAreNotAccessLogged: probes every few seconds would bury the
// access log; other requests are logged (the control).
func TestProbesAreNotAccessLogged(t *testing.T) {
	core, logs := observer.New(zapcore.InfoLevel)
	cfg := testkit.Config(t)
	s, err := httpserver.New(httpserver.Params{Config: cfg.HTTP, Log: zap.New(core), Health: health.NewRegistry(health.RegistryParams{})})
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) {
		res, err := s.App().Test(httptest.NewRequest(http.MethodGet, path, nil))
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
	}
	get(probeLive)
	get(probeReady)
	if n := logs.FilterMessage("request").Len(); n != 0 {
		t.Fatalf("probes wrote %d access-log lines", n)
	}
	get("/api/anything")
	if n := logs.FilterMessage("request").Len(); n != 1 {
		t.Fatalf("a normal request wrote %d access-log lines, want 1", n)
	}
}

// TestStrictDecodingRejectsUnknownFields is the control for TestOverlays: a
// misspelt field must fail, not vanish.
func TestStrictDecodingRejectsUnknownFields(t *testing.T) {
	doc := []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replica: 2\n")
	var d appsv1.Deployment
	if err := yaml.UnmarshalStrict(doc, &d); err == nil {
		t.Fatal("a Deployment with spec.replica (typo) decoded without error")
	}
}
