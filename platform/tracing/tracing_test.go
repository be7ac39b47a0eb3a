package tracing_test

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
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
	spans []exported
}

// exported is a span with its resource's service.name.
type exported struct {
	service string
	span    *tracepb.Span
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
		service := attributes(rs.GetResource().GetAttributes())["service.name"]
		for _, ss := range rs.ScopeSpans {
			for _, s := range ss.Spans {
				c.spans = append(c.spans, exported{service: service, span: s})
			}
		}
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(nil)
}

// inTrace returns the spans of the trace id (hex).
func (c *collector) inTrace(id string) []exported {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []exported
	for _, e := range c.spans {
		if hex.EncodeToString(e.span.TraceId) == id {
			out = append(out, e)
		}
	}
	return out
}

// attributes flattens OTLP attributes to strings, enough to compare.
func attributes(kvs []*commonpb.KeyValue) map[string]string {
	m := map[string]string{}
	for _, kv := range kvs {
		switch v := kv.Value.Value.(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.Key] = v.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.Key] = strconv.FormatInt(v.IntValue, 10)
		}
	}
	return m
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
	callerSpan  = "00f067aa0ba902b7"
	traceparent = "00-" + callerTrace + "-" + callerSpan + "-01"
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

func get(t *testing.T, s *httpserver.Server, header string) int {
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
	return res.StatusCode
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
// request continues the caller's trace, its span (named by route template,
// with the request's attributes) reaches the collector as the caller's
// child, and the access log carries the same trace id.
func TestTracingExportsSpansAndLogsTraceID(t *testing.T) {
	col := &collector{}
	srv := httptest.NewServer(col)
	defer srv.Close()
	s, tr, logs := server(t, config.Telemetry{OTLPEndpoint: srv.URL, ServiceName: "tracing-test", SampleRatio: 1})

	status := get(t, s, traceparent)
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
	got := col.inTrace(callerTrace)
	if len(got) != 1 {
		t.Fatalf("%d spans in the caller's trace, want 1; collector has %d spans", len(got), len(col.spans))
	}
	span := got[0].span
	want := map[string]string{
		"http.request.method": "GET", "url.path": "/api/things/42", "http.route": "/api/things/:id",
		"http.response.status_code": strconv.Itoa(status),
	}
	attrs := attributes(span.Attributes)
	for k, v := range want {
		if attrs[k] != v {
			t.Errorf("span attribute %s = %q, want %q (all: %v)", k, attrs[k], v, attrs)
		}
	}
	if span.Name != "GET /api/things/:id" || span.Kind != tracepb.Span_SPAN_KIND_SERVER ||
		hex.EncodeToString(span.ParentSpanId) != callerSpan || got[0].service != "tracing-test" {
		t.Fatalf("span %q kind %v parent %x service %q: want GET /api/things/:id, a server span, child of %s, of tracing-test",
			span.Name, span.Kind, span.ParentSpanId, got[0].service, callerSpan)
	}
	if len(col.inTrace(fresh)) != 1 {
		t.Fatalf("the request without traceparent: no span in its trace %s", fresh)
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
