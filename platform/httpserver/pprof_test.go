package httpserver_test

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/testkit"
)

// TestPprofListener: profiles are served on DEBUG_PPROF_ADDR only, never
// through the API port.
func TestPprofListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	app := apptest.Start(t, testkit.NewDB(t, "sqlite3"), testkit.WithConfig(func(c *config.Config) { c.HTTP.PprofAddr = addr }))

	res, err := http.Get("http://" + addr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "goroutine profile: total ") {
		t.Fatalf("pprof goroutines: %d %.80s", res.StatusCode, body)
	}
	if r := app.Do(http.MethodGet, "/debug/pprof/goroutine?debug=1", nil); r.Status != http.StatusNotFound {
		t.Fatalf("API port serves pprof: %d", r.Status)
	}
}
