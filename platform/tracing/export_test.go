package tracing

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
)

// NewOTLPHTTP is the exporter's client on its own, for the tests of its
// retries; a non-nil wait replaces the sleep between attempts, so a test
// counts the delays instead of spending them.
func NewOTLPHTTP(endpoint string, wait func(context.Context, time.Duration) error) otlptrace.Client {
	c := newOTLPHTTP(endpoint)
	if wait != nil {
		c.wait = wait
	}
	return c
}
