package tracing_test

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"google.golang.org/protobuf/proto"

	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/health"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/tracing"
)

// collector is a stand-in OTLP/HTTP receiver (a boundary we do not own).
type collector struct {
	mu    sync.Mutex
	spans map[string]string // span name -> trace id
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req coltracepb.ExportTraceServiceRequest
	if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
		http.Error(w, "bad export", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				c.spans[s.Name] = hex.EncodeToString(s.TraceId)
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(nil)
}

type routes struct{}

func (routes) Register(api huma.API) {
	huma.Get(api, "/api/things/{id}", func(context.Context, *struct {
		ID string `path:"id"`
	}) (*struct{}, error) {
		return nil, nil
	})
}

const (
	callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	traceparent = "00-" + callerTrace + "-00f067aa0ba902b7-01"
)

func server(t *testing.T, tel config.Telemetry) (*httpserver.Server, *tracing.Tracer, *observer.ObservedLogs) {
	t.Helper()
	tr, err := tracing.New(tel)
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.InfoLevel)
	s, err := httpserver.New(httpserver.Params{
		Config: config.HTTP{ShutdownTimeout: 1}, Log: zap.New(core), Tracer: tr,
		Health: health.NewRegistry(health.RegistryParams{}), Routes: []httpserver.Routes{routes{}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, tr, logs
}

func get(t *testing.T, s *httpserver.Server, header string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/api/things/42", nil)
	if header != "" {
		req.Header.Set("traceparent", header)
	}
	res, err := s.App().Test(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
}

func accessLogTraceID(t *testing.T, logs *observer.ObservedLogs) (string, bool) {
	t.Helper()
	var entries []observer.LoggedEntry
	for _, e := range logs.TakeAll() {
		if e.Message == "request" {
			entries = append(entries, e)
		}
	}
	if len(entries) != 1 {
		t.Fatalf("%d access-log lines, want 1", len(entries))
	}
	id, ok := entries[0].ContextMap()["trace_id"].(string)
	return id, ok
}

// TestTracingExportsSpansAndLogsTraceID: with an endpoint configured, a
// request continues the caller's trace, its span (named by route template)
// reaches the collector, and the access log carries the same trace id.
func TestTracingExportsSpansAndLogsTraceID(t *testing.T) {
	col := &collector{spans: map[string]string{}}
	srv := httptest.NewServer(col)
	defer srv.Close()
	s, tr, logs := server(t, config.Telemetry{OTLPEndpoint: srv.URL, ServiceName: "tracing-test", SampleRatio: 1})

	get(t, s, traceparent)
	if id, _ := accessLogTraceID(t, logs); id != callerTrace {
		t.Fatalf("access log trace_id = %q, want the caller's %s", id, callerTrace)
	}
	get(t, s, "") // a new trace, started here
	fresh, ok := accessLogTraceID(t, logs)
	if !ok || fresh == callerTrace || len(fresh) != 32 {
		t.Fatalf("a request without traceparent got trace_id %q", fresh)
	}
	if err := tr.Shutdown(context.Background()); err != nil { // flushes the batch
		t.Fatal(err)
	}
	col.mu.Lock()
	defer col.mu.Unlock()
	got, ok := col.spans["GET /api/things/:id"]
	if !ok || (got != callerTrace && got != fresh) {
		t.Fatalf("collector spans %v: want GET /api/things/:id in one of the two traces", col.spans)
	}
}

// TestTracingOffByDefault: no endpoint, no exporter; a request without a
// caller's trace logs no trace id (the control for the test above).
func TestTracingOffByDefault(t *testing.T) {
	s, _, logs := server(t, config.Telemetry{ServiceName: "tracing-test", SampleRatio: 1})
	get(t, s, "")
	if id, ok := accessLogTraceID(t, logs); ok {
		t.Fatalf("trace_id %q logged with tracing off", id)
	}
}
