package httpserver_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/problem"
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

func start(t *testing.T) *apptest.App {
	db := testkit.NewDB(t, "sqlite3")
	return apptest.Start(t, db, testkit.WithFx(fx.Provide(httpserver.AsRoutes(func() probeRoutes { return probeRoutes{} }))))
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
	// Declare a body over the limit and send none of it: the server must
	// answer from the header alone (a client streaming megabytes would
	// race the server closing the connection).
	conn, err := net.Dial("tcp", strings.TrimPrefix(app.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST /api/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", 2<<20)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(body), `"code":"body_too_large"`) {
		t.Fatalf("status = %d, body %s", res.StatusCode, body)
	}
}

type createA struct{ A string }

func TestSchemaNamesAreQualifiedByPackage(t *testing.T) {
	// Types outside this repository keep huma's names.
	if got := httpserver.SchemaName(reflect.TypeFor[time.Time](), ""); got != "Time" {
		t.Fatalf("time.Time -> %q", got)
	}
	// Ours get the package's name, so equal type names do not collide.
	a := httpserver.SchemaName(reflect.TypeFor[createA](), "")
	b := httpserver.SchemaName(reflect.TypeFor[problem.Problem](), "")
	c := httpserver.SchemaName(reflect.TypeFor[problem.FieldError](), "")
	if a != "Httpserver_testCreateA" {
		t.Fatalf("createA -> %q", a)
	}
	if b != "Problem" || c != "ProblemFieldError" {
		t.Fatalf("problem types -> %q, %q", b, c)
	}
}
