package tracing_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	resourcepb "go.opentelemetry.io/proto/otlp/resource/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/acme/monolith/platform/tracing"
)

// reply is one scripted collector answer.
type reply struct {
	status     int
	retryAfter string
	hangUp     bool // close the connection without answering
}

// scripted is a collector answering each export with the next reply (the
// last one repeats), and keeping what it received.
type scripted struct {
	t       *testing.T
	mu      sync.Mutex
	replies []reply
	got     []*coltracepb.ExportTraceServiceRequest
	onPost  func()
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	n := len(s.got)
	rep := s.replies[min(n, len(s.replies)-1)]
	var req coltracepb.ExportTraceServiceRequest
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		s.t.Errorf("export %d: %s %s with Content-Type %q, want POST /v1/traces application/x-protobuf", n, r.Method, r.URL.Path, r.Header.Get("Content-Type"))
	}
	if err := proto.Unmarshal(body, &req); err != nil {
		s.t.Errorf("export %d: body is no ExportTraceServiceRequest: %v", n, err)
	}
	s.got = append(s.got, &req)
	onPost := s.onPost
	s.mu.Unlock()
	if onPost != nil {
		onPost()
	}
	if rep.hangUp {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			s.t.Error(err)
			return
		}
		_ = conn.Close()
		return
	}
	if rep.retryAfter != "" {
		w.Header().Set("Retry-After", rep.retryAfter)
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(rep.status)
}

func (s *scripted) attempts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.got)
}

// collectorScript starts a scripted collector for the test.
func collectorScript(t *testing.T, replies ...reply) (*scripted, string) {
	t.Helper()
	s := &scripted{t: t, replies: replies}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv.URL
}

// waits records the delays the client asks for between attempts.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) wait(_ context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.d = append(w.d, d)
	return nil
}

func (w *waits) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

// someSpans are two resources' spans, so the request repeats its field.
func someSpans() []*tracepb.ResourceSpans {
	res := func(name string) *resourcepb.Resource {
		return &resourcepb.Resource{Attributes: []*commonpb.KeyValue{{
			Key: "service.name", Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: name}},
		}}}
	}
	span := func(name string, id byte) *tracepb.Span {
		return &tracepb.Span{Name: name, TraceId: []byte{15: id}, SpanId: []byte{7: id}, Kind: tracepb.Span_SPAN_KIND_SERVER}
	}
	return []*tracepb.ResourceSpans{
		{Resource: res("a"), ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{span("GET /a", 1), span("GET /b", 2)}}}},
		{Resource: res("b"), ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{span("POST /c", 3)}}}},
	}
}

func upload(t *testing.T, c interface {
	UploadTraces(context.Context, []*tracepb.ResourceSpans) error
}, spans []*tracepb.ResourceSpans) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return c.UploadTraces(ctx, spans)
}

// TestOTLPRequestDecodesAsTheCollectorProto: the hand-written request is
// the ExportTraceServiceRequest the generated collector package would send.
// The endpoint's trailing slash does not double the path's.
func TestOTLPRequestDecodesAsTheCollectorProto(t *testing.T) {
	col, url := collectorScript(t, reply{status: http.StatusOK})
	spans := someSpans()
	if err := upload(t, tracing.NewOTLPHTTP(url+"/", nil), spans); err != nil {
		t.Fatal(err)
	}
	want := &coltracepb.ExportTraceServiceRequest{ResourceSpans: spans}
	if len(col.got) != 1 || !proto.Equal(col.got[0], want) {
		t.Fatalf("collector received %v, want %v", col.got, want)
	}
}

// TestOTLPRetriesRetryableStatuses: 429, 502, 503 and 504 are retried
// (after a backoff, there being no Retry-After) and the same request
// arrives again.
func TestOTLPRetriesRetryableStatuses(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			col, url := collectorScript(t, reply{status: status}, reply{status: http.StatusOK})
			w := &waits{}
			spans := someSpans()
			if err := upload(t, tracing.NewOTLPHTTP(url, w.wait), spans); err != nil {
				t.Fatalf("export after a %d then a 200: %v", status, err)
			}
			if n := col.attempts(); n != 2 {
				t.Fatalf("%d attempts, want 2", n)
			}
			if d := w.all(); len(d) != 1 || d[0] <= 0 {
				t.Fatalf("waits %v, want one backoff", d)
			}
			if !proto.Equal(col.got[1], &coltracepb.ExportTraceServiceRequest{ResourceSpans: spans}) {
				t.Fatal("the retry sent another request")
			}
		})
	}
}

// TestOTLPRetriesAFailedConnection: a connection the collector drops
// without answering is retried.
func TestOTLPRetriesAFailedConnection(t *testing.T) {
	col, url := collectorScript(t, reply{hangUp: true}, reply{status: http.StatusOK})
	if err := upload(t, tracing.NewOTLPHTTP(url, (&waits{}).wait), someSpans()); err != nil {
		t.Fatal(err)
	}
	if n := col.attempts(); n != 2 {
		t.Fatalf("%d attempts, want 2", n)
	}
}

// TestOTLPDoesNotRetryOtherErrors: other 4xx and 5xx are permanent, one
// attempt and an error naming the status.
func TestOTLPDoesNotRetryOtherErrors(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusNotFound, http.StatusRequestEntityTooLarge, http.StatusInternalServerError} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			col, url := collectorScript(t, reply{status: status}, reply{status: http.StatusOK})
			w := &waits{}
			err := upload(t, tracing.NewOTLPHTTP(url, w.wait), someSpans())
			if err == nil || !strings.Contains(err.Error(), http.StatusText(status)) {
				t.Fatalf("export answered %d: error %v, want one naming the status", status, err)
			}
			if n, d := col.attempts(), w.all(); n != 1 || len(d) != 0 {
				t.Fatalf("%d attempts and waits %v, want 1 and none", n, d)
			}
		})
	}
}

// TestOTLPHonoursRetryAfter: the server's delay replaces a shorter
// backoff, and "retry at once" still backs off.
func TestOTLPHonoursRetryAfter(t *testing.T) {
	col, url := collectorScript(t,
		reply{status: http.StatusServiceUnavailable, retryAfter: "7"},
		reply{status: http.StatusTooManyRequests, retryAfter: "3"},
		reply{status: http.StatusServiceUnavailable, retryAfter: "0"},
		reply{status: http.StatusOK})
	w := &waits{}
	if err := upload(t, tracing.NewOTLPHTTP(url, w.wait), someSpans()); err != nil {
		t.Fatal(err)
	}
	if n, d := col.attempts(), w.all(); n != 4 || len(d) != 3 || d[0] != 7*time.Second || d[1] != 3*time.Second || d[2] <= 0 {
		t.Fatalf("%d attempts, waits %v: want 4 attempts after 7s, 3s and a backoff", n, d)
	}
}

// TestOTLPGivesUpWhenRetryAfterPassesTheDeadline: a Retry-After beyond
// the export's deadline ends the export at once, with the real sleep.
func TestOTLPGivesUpWhenRetryAfterPassesTheDeadline(t *testing.T) {
	col, url := collectorScript(t, reply{status: http.StatusServiceUnavailable, retryAfter: "3600"}, reply{status: http.StatusOK})
	err := upload(t, tracing.NewOTLPHTTP(url, nil), someSpans()) // a minute's deadline
	if err == nil || !strings.Contains(err.Error(), "past the export deadline") {
		t.Fatalf("error %v, want a refusal to wait past the deadline", err)
	}
	if n := col.attempts(); n != 1 {
		t.Fatalf("%d attempts, want 1", n)
	}
}

// TestOTLPStopsWithItsContext: an export whose context ends (the batch
// processor's timeout, shutdown) stops retrying, with the real sleep.
func TestOTLPStopsWithItsContext(t *testing.T) {
	col, url := collectorScript(t, reply{status: http.StatusServiceUnavailable})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	col.onPost = cancel
	err := tracing.NewOTLPHTTP(url, nil).UploadTraces(ctx, someSpans())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if n := col.attempts(); n != 1 {
		t.Fatalf("%d attempts, want 1", n)
	}
}

// TestOTLPSpeaksTLSToAnHTTPSEndpoint: the endpoint's scheme chooses TLS;
// the test server's certificate is not one the client trusts, so the
// failure names it, at once: retrying would not change the certificate.
func TestOTLPSpeaksTLSToAnHTTPSEndpoint(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake
	srv.StartTLS()
	defer srv.Close()
	w := &waits{}
	err := upload(t, tracing.NewOTLPHTTP(srv.URL, w.wait), someSpans())
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("error %v, want a TLS certificate failure", err)
	}
	if d := w.all(); len(d) != 0 {
		t.Fatalf("waits %v: a refused certificate was retried", d)
	}
}
