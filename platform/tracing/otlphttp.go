package tracing

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cenkalti/backoff/v5"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// otlpHTTP sends spans to a collector over OTLP/HTTP with a protobuf body
// (https://opentelemetry.io/docs/specs/otlp/#otlphttp), as the client of the
// generic otlptrace exporter. It replaces otlptracehttp, whose configuration
// package links gRPC, grpc-gateway and x/net/trace
// (open-telemetry/opentelemetry-go#2579): about 3 MB of binary and of idle
// memory in the serving process for a transport it never uses.
type otlpHTTP struct {
	url    string
	client *http.Client
	// wait sleeps between attempts; tests replace it to count the delays
	// instead of spending them.
	wait func(ctx context.Context, d time.Duration) error
}

const (
	// tracesPath is appended to OTEL_EXPORTER_OTLP_ENDPOINT, the base URL
	// of every signal, per the spec.
	tracesPath = "/v1/traces"
	// maxExportTime bounds an export whose context has no deadline (the
	// batch processor always gives one); the upstream exporter's default.
	maxExportTime = time.Minute
	// maxDrain is how much of a response body is read so the connection
	// can be reused; the rest is dropped with the connection.
	maxDrain = 64 << 10
	// maxRetryAfter (seconds, a year) is more than any deadline.
	maxRetryAfter = 365 * 24 * 3600
)

func newOTLPHTTP(endpoint string) *otlpHTTP {
	// A transport of its own: Stop closes its idle connections and no one
	// else's.
	transport := http.DefaultTransport.(*http.Transport).Clone()
	return &otlpHTTP{
		url:    strings.TrimSuffix(endpoint, "/") + tracesPath,
		client: &http.Client{Transport: transport},
		wait:   sleep,
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Start has nothing to connect: HTTP connections are made on demand.
func (c *otlpHTTP) Start(context.Context) error { return nil }

// Stop closes idle connections; an upload in flight ends with its context.
func (c *otlpHTTP) Stop(context.Context) error {
	c.client.CloseIdleConnections()
	return nil
}

// UploadTraces posts one ExportTraceServiceRequest, retrying what the spec
// calls retryable (429, 502, 503, 504 and failed connections) with
// exponential backoff, or the server's Retry-After when longer, until
// ctx's deadline.
func (c *otlpHTTP) UploadTraces(ctx context.Context, spans []*tracepb.ResourceSpans) error {
	if len(spans) == 0 {
		return nil
	}
	body, err := encodeExportRequest(spans)
	if err != nil {
		return fmt.Errorf("otlp: encode spans: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, maxExportTime)
		defer cancel()
	}
	b := backoff.NewExponentialBackOff()
	for {
		err := c.post(ctx, body)
		var retry *retryableError
		if err == nil || !errors.As(err, &retry) {
			return err
		}
		// Never sooner than the server asked, nor than the backoff: a
		// collector answering "Retry-After: 0" is not hammered.
		delay := max(retry.after, b.NextBackOff())
		if deadline, _ := ctx.Deadline(); time.Until(deadline) < delay {
			return fmt.Errorf("%w; giving up: the next attempt, in %s, is past the export deadline", err, delay)
		}
		if werr := c.wait(ctx, delay); werr != nil {
			return fmt.Errorf("%w; giving up: %w", err, werr)
		}
	}
}

// retryableError is a failed attempt worth repeating, not before the
// server's Retry-After when it gave one (else after is negative).
type retryableError struct {
	err   error
	after time.Duration
}

func (e *retryableError) Error() string { return e.err.Error() }
func (e *retryableError) Unwrap() error { return e.err }

func (c *otlpHTTP) post(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("otlp: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	res, err := c.client.Do(req)
	if err != nil {
		// A certificate refused now is refused on every retry.
		var cert *tls.CertificateVerificationError
		if ctx.Err() != nil || errors.As(err, &cert) {
			return fmt.Errorf("otlp: %w", err)
		}
		return &retryableError{err: fmt.Errorf("otlp: %w", err), after: -1}
	}
	// A success may carry a partial_success (spans the collector dropped);
	// nothing here could act on it, so the body is only drained.
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxDrain))
	_ = res.Body.Close()
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("otlp: collector answered %s", res.Status)
	switch res.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return &retryableError{err: err, after: retryAfter(res.Header.Get("Retry-After"))}
	}
	return err
}

// retryAfter reads a Retry-After header, delay-seconds or an HTTP date;
// negative when absent or unreadable.
func retryAfter(v string) time.Duration {
	if v == "" {
		return -1
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(min(s, maxRetryAfter)) * time.Second // no overflow
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return -1
}

// encodeExportRequest writes an ExportTraceServiceRequest, whose only
// field is `repeated ResourceSpans resource_spans = 1`, by hand: the
// generated collector package would link gRPC again.
func encodeExportRequest(spans []*tracepb.ResourceSpans) ([]byte, error) {
	var out []byte
	for _, rs := range spans {
		b, err := proto.Marshal(rs)
		if err != nil {
			return nil, err
		}
		out = protowire.AppendTag(out, 1, protowire.BytesType)
		out = protowire.AppendBytes(out, b)
	}
	return out, nil
}
