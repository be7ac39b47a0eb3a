package config

import (
	"net"
	"net/url"
	"strconv"

	"github.com/acme/monolith/platform/buildinfo"
)

func loadTelemetry(l *loader) Telemetry {
	t := Telemetry{
		MetricsAddr:  l.str("METRICS_ADDR", "127.0.0.1:9090"),
		OTLPEndpoint: l.str("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
		ServiceName:  l.str("OTEL_SERVICE_NAME", buildinfo.Service),
		SampleRatio:  1,
	}
	if t.MetricsAddr != MetricsOff {
		if _, _, err := net.SplitHostPort(t.MetricsAddr); err != nil {
			l.fail("METRICS_ADDR", "must be host:port (e.g. 0.0.0.0:9090) or off")
		}
	}
	if t.OTLPEndpoint != "" {
		if u, err := url.Parse(t.OTLPEndpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			l.fail("OTEL_EXPORTER_OTLP_ENDPOINT", "must be an http(s) URL such as http://otel-collector:4318")
		}
	}
	if v := l.str("OTEL_TRACES_SAMPLER_ARG", ""); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r < 0 || r > 1 {
			l.fail("OTEL_TRACES_SAMPLER_ARG", "must be a sampling ratio between 0 and 1")
		} else {
			t.SampleRatio = r
		}
	}
	return t
}
