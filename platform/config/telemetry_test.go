package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/acme/monolith/platform/config"
)

func TestTelemetryDefaultsAndValidation(t *testing.T) {
	c, err := config.LoadFrom(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Telemetry.MetricsAddr != "127.0.0.1:9090" || c.Telemetry.OTLPEndpoint != "" || c.Telemetry.SampleRatio != 1 || c.HTTP.ShutdownDelay != 0 {
		t.Fatalf("defaults = %+v %v", c.Telemetry, c.HTTP.ShutdownDelay)
	}
	c, err = config.LoadFrom(env(map[string]string{
		"METRICS_ADDR": "off", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
		"OTEL_TRACES_SAMPLER_ARG": "0.25", "HTTP_SHUTDOWN_DELAY": "5s",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Telemetry.MetricsAddr != config.MetricsOff || c.Telemetry.SampleRatio != 0.25 || c.HTTP.ShutdownDelay != 5*time.Second {
		t.Fatalf("parsed = %+v %v", c.Telemetry, c.HTTP.ShutdownDelay)
	}
	for name, value := range map[string]string{
		"METRICS_ADDR":                "9090",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318",
		"OTEL_TRACES_SAMPLER_ARG":     "2",
		"HTTP_SHUTDOWN_DELAY":         "-1s",
	} {
		if _, err := config.LoadFrom(env(map[string]string{name: value})); err == nil || !strings.Contains(err.Error(), name+":") {
			t.Errorf("%s=%s: err = %v, want it to name the variable", name, value, err)
		}
	}
}
