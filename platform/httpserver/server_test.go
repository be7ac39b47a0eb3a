package httpserver_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"go.uber.org/fx"

	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/testkit"
)

// probeRoutes is a module that misbehaves on purpose.
type probeRoutes struct{}

func (probeRoutes) Register(api huma.API) {
	huma.Get(api, "/test/panic", func(context.Context, *struct{}) (*struct{}, error) {
		panic("secret internal state")
	})
	huma.Get(api, "/test/error", func(context.Context, *struct{}) (*struct{}, error) {
		return nil, errors.New("dial tcp 10.0.0.7:5432: connection refused")
	})
}

func start(t *testing.T) *testkit.App {
	db := testkit.NewDB(t, "sqlite3")
	return testkit.Start(t, db, testkit.WithFx(fx.Provide(httpserver.AsRoutes(func() probeRoutes { return probeRoutes{} }))))
}

func TestInternalErrorsAreOpaque(t *testing.T) {
	app := start(t)
	for _, path := range []string{"/test/panic", "/test/error"} {
		res := app.Do(http.MethodGet, path, nil)
		if res.Status != http.StatusInternalServerError {
			t.Fatalf("%s: %d %s", path, res.Status, res.Body)
		}
		p := res.Problem(t)
		if p.Code != "internal_error" || p.RequestID == "" {
			t.Fatalf("%s: problem %+v", path, p)
		}
		if strings.Contains(string(res.Body), "secret") || strings.Contains(string(res.Body), "10.0.0.7") {
			t.Fatalf("%s leaks its cause: %s", path, res.Body)
		}
	}
	// The server survived the panic.
	if res := app.Do(http.MethodGet, "/livez", nil); res.Status != http.StatusOK {
		t.Fatalf("livez after panic: %d", res.Status)
	}
}

func TestRequestID(t *testing.T) {
	app := start(t)
	res := app.Do(http.MethodGet, "/api/nope", nil, testkit.Header{Key: "X-Request-ID", Value: "abc-123"})
	if res.Header.Get("X-Request-ID") != "abc-123" || res.Problem(t).RequestID != "abc-123" {
		t.Fatalf("request id not propagated: %v %s", res.Header, res.Body)
	}
	// A hostile id is replaced, not echoed into logs.
	res = app.Do(http.MethodGet, "/livez", nil, testkit.Header{Key: "X-Request-ID", Value: "x\" injected=1"})
	if got := res.Header.Get("X-Request-ID"); got == "" || strings.Contains(got, "injected") {
		t.Fatalf("hostile request id kept: %q", got)
	}
}

func TestProbes(t *testing.T) {
	app := start(t)
	if res := app.Do(http.MethodGet, "/livez", nil); res.Status != http.StatusOK {
		t.Fatalf("livez: %d", res.Status)
	}
	res := app.Do(http.MethodGet, "/readyz", nil)
	if res.Status != http.StatusOK || !strings.Contains(string(res.Body), `"database":"ok"`) {
		t.Fatalf("readyz: %d %s", res.Status, res.Body)
	}
	// With the database gone, readiness fails and liveness does not.
	_ = app.DB.SQL.Close()
	if res := app.Do(http.MethodGet, "/readyz", nil); res.Status != http.StatusServiceUnavailable {
		t.Fatalf("readyz with the database closed: %d %s", res.Status, res.Body)
	}
	if res := app.Do(http.MethodGet, "/livez", nil); res.Status != http.StatusOK {
		t.Fatalf("livez must not depend on the database: %d", res.Status)
	}
}

func TestDocsWorkOffline(t *testing.T) {
	app := start(t)
	res := app.Do(http.MethodGet, "/docs", nil)
	if res.Status != http.StatusOK || !strings.Contains(string(res.Body), "/docs/assets/swagger-ui-bundle.js") {
		t.Fatalf("docs: %d %s", res.Status, res.Body)
	}
	if strings.Contains(string(res.Body), "https://") {
		t.Fatal("the docs page loads something from the internet")
	}
	for _, asset := range []string{"/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-ui.css", "/docs/init.js", "/openapi.json"} {
		if res := app.Do(http.MethodGet, asset, nil); res.Status != http.StatusOK || len(res.Body) == 0 {
			t.Fatalf("%s: %d", asset, res.Status)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	app := start(t)
	big := `{"email":"` + strings.Repeat("a", 2<<20) + `"}`
	res := app.Do(http.MethodPost, "/api/auth/register", big)
	if res.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status = %d", res.Status)
	}
	if p := res.Problem(t); p.Code != "body_too_large" {
		t.Fatalf("code = %q", p.Code)
	}
}
