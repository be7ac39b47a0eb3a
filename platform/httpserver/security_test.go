package httpserver_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/testkit"
)

// TestCORS: only configured origins get CORS headers (ASVS 5.0 V3.4);
// control: the configured one does.
func TestCORS(t *testing.T) {
	db := testkit.NewDB(t, "sqlite3")
	app := apptest.Start(t, db, testkit.WithConfig(func(c *config.Config) {
		c.Sessions.CORSOrigins = []string{"https://app.example.test"}
	}))
	preflight := func(origin string) *testkit.Response {
		return app.Do(http.MethodOptions, "/api/users/me", nil,
			testkit.Header{Key: "Origin", Value: origin}, testkit.Header{Key: "Access-Control-Request-Method", Value: "GET"})
	}
	if got := preflight("https://app.example.test").Header.Get("Access-Control-Allow-Origin"); got != "https://app.example.test" {
		t.Fatalf("allowed origin: ACAO = %q", got)
	}
	if got := preflight("https://evil.example").Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("foreign origin: ACAO = %q", got)
	}
}

// TestHSTSAndDocsCSP: HSTS only when configured (production), and the docs
// page gets a CSP that allows its own scripts but no inline ones.
func TestHSTSAndDocsCSP(t *testing.T) {
	db := testkit.NewDB(t, "sqlite3")
	for _, hsts := range []bool{false, true} {
		app := apptest.Start(t, db, testkit.WithConfig(func(c *config.Config) { c.Sessions.HSTS = hsts }))
		res := app.Do(http.MethodGet, "/docs", nil)
		if got := res.Header.Get("Strict-Transport-Security"); (got != "") != hsts {
			t.Fatalf("hsts=%v: header %q", hsts, got)
		}
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline'; img") && strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
			t.Fatalf("docs CSP = %q", csp)
		}
	}
}
