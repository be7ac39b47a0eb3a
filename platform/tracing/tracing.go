// Package tracing sets up OpenTelemetry tracing over OTLP/HTTP when
// OTEL_EXPORTER_OTLP_ENDPOINT is set, and a no-op tracer otherwise, so the
// rest of the code never checks whether tracing is on. The HTTP middleware
// continues a caller's W3C traceparent and starts one span per request;
// the access log carries its trace id.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/acme/monolith/platform/buildinfo"
	"github.com/acme/monolith/platform/config"
)

// Tracer starts the spans of HTTP requests.
type Tracer struct {
	provider   trace.TracerProvider
	tracer     trace.Tracer
	propagator propagation.TextMapPropagator
	shutdown   func(context.Context) error
}

// New returns an exporting tracer when an endpoint is configured, else a
// no-op one. Nothing is sent before the first span ends.
func New(cfg config.Telemetry) (*Tracer, error) {
	prop := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	if cfg.OTLPEndpoint == "" {
		p := noop.NewTracerProvider()
		return &Tracer{provider: p, tracer: p.Tracer(buildinfo.Service), propagator: prop, shutdown: func(context.Context) error { return nil }}, nil
	}
	if u, err := url.Parse(cfg.OTLPEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, errors.New("OTEL_EXPORTER_OTLP_ENDPOINT: not an http(s) URL") // the value may hold credentials
	}
	exp, err := otlptrace.New(context.Background(), newOTLPHTTP(cfg.OTLPEndpoint))
	if err != nil {
		return nil, fmt.Errorf("otlp exporter: %w", err)
	}
	res := resource.NewSchemaless(
		semconv.ServiceName(cfg.ServiceName),
		semconv.ServiceVersion(buildinfo.String()),
	)
	p := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(cfg.SampleRatio))),
	)
	return &Tracer{provider: p, tracer: p.Tracer(buildinfo.Service), propagator: prop, shutdown: p.Shutdown}, nil
}

// Provider is the tracer provider, for modules that add their own spans.
func (t *Tracer) Provider() trace.TracerProvider { return t.provider }

// Shutdown flushes pending spans; called last on stop.
func (t *Tracer) Shutdown(ctx context.Context) error { return t.shutdown(ctx) }

// Middleware starts a server span per request, continuing the caller's
// traceparent, and puts it in the request's user context. It runs before
// the access log, which reads the trace id from that context.
func (t *Tracer) Middleware() fiber.Handler {
	return func(c *fiber.Ctx) error {
		// HeaderCarrier canonicalises names, as fasthttp does.
		carrier := propagation.HeaderCarrier(http.Header{})
		for _, k := range []string{"traceparent", "tracestate", "baggage"} {
			if v := c.Get(k); v != "" {
				carrier.Set(k, strings.Clone(v))
			}
		}
		ctx := t.propagator.Extract(c.UserContext(), carrier)
		method := strings.Clone(c.Method()) // fasthttp reuses the buffer; spans outlive it
		ctx, span := t.tracer.Start(ctx, method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(semconv.HTTPRequestMethodKey.String(method), semconv.URLPath(strings.Clone(c.Path()))))
		defer span.End()
		c.SetUserContext(ctx)
		err := c.Next()
		route := c.Route().Path
		status := c.Response().StatusCode()
		span.SetName(method + " " + route)
		span.SetAttributes(semconv.HTTPRoute(strings.Clone(route)), attribute.Int("http.response.status_code", status))
		if status >= http.StatusInternalServerError {
			span.SetStatus(codes.Error, strconv.Itoa(status))
		}
		return err
	}
}

// TraceID returns the trace id of ctx's span, or "" when none is recording
// or sampled.
func TraceID(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ""
	}
	return sc.TraceID().String()
}
