package main

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"entgo.io/ent/dialect"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/testkit"
)

// TestRequestSpanReachesTheCollector: the assembled application, given an
// OTLP endpoint, exports a request's span (named by its route, continuing
// the caller's traceparent) over OTLP/HTTP by the time it has stopped.
// The collector decodes with the generated collector package, which only
// tests may link.
func TestRequestSpanReachesTheCollector(t *testing.T) {
	const (
		callerTrace = "0af7651916cd43dd8448eb211c80319c"
		callerSpan  = "b7ad6b7169203331"
	)
	var (
		mu    sync.Mutex
		spans []*tracepb.Span
	)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				spans = append(spans, ss.Spans...)
			}
		}
	}))
	t.Cleanup(collector.Close)
	// Cleanups run last first: this one, registered before the app's, runs
	// after the app has stopped, which flushes the spans.
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, s := range spans {
			if hex.EncodeToString(s.TraceId) == callerTrace {
				if s.Name != "GET /api/users/me" || hex.EncodeToString(s.ParentSpanId) != callerSpan {
					t.Errorf("span %q with parent %x, want GET /api/users/me, child of %s", s.Name, s.ParentSpanId, callerSpan)
				}
				return
			}
		}
		t.Errorf("no span of trace %s among the %d the collector received", callerTrace, len(spans))
	})

	app := apptest.Start(t, testkit.NewDB(t, dialect.SQLite), testkit.WithConfig(func(c *config.Config) {
		c.Telemetry.OTLPEndpoint = collector.URL
		c.Telemetry.SampleRatio = 0 // a new trace is not sampled; the caller's sampled one is followed
	}))
	token := app.Login(apptest.SuperuserEmail, apptest.SuperuserPassword)
	res := app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(token),
		testkit.Header{Key: "traceparent", Value: "00-" + callerTrace + "-" + callerSpan + "-01"})
	if res.Status != http.StatusOK {
		t.Fatalf("GET /api/users/me: %d %s", res.Status, res.Body)
	}
}
