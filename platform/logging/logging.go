// Package logging builds the zap logger and the fx event logger.
package logging

import (
	"context"
	"fmt"

	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/acme/monolith/platform/config"
)

// New returns JSON logs in production and readable console logs in
// development, at the configured level.
func New(cfg config.Config) (*zap.Logger, error) {
	level, err := zapcore.ParseLevel(cfg.LogLevel)
	if err != nil {
		return nil, fmt.Errorf("LOG_LEVEL: %w", err)
	}
	var zc zap.Config
	if cfg.IsProduction() {
		zc = zap.NewProductionConfig()
		zc.EncoderConfig.TimeKey = "time"
		zc.EncoderConfig.EncodeTime = zapcore.ISO8601TimeEncoder
	} else {
		zc = zap.NewDevelopmentConfig()
		zc.EncoderConfig.EncodeLevel = zapcore.CapitalColorLevelEncoder
		// Stack traces on every warning drown the console; keep them for errors.
		zc.Development = false
	}
	zc.Level = zap.NewAtomicLevelAt(level)
	zc.DisableStacktrace = cfg.IsProduction()
	log, err := zc.Build()
	if err != nil {
		return nil, fmt.Errorf("build logger: %w", err)
	}
	return log, nil
}

// FxLogger routes fx's own events through zap. They are debug-level unless
// LOG_FX_EVENTS=true, so a normal start prints only what matters; fx errors
// are always logged.
func FxLogger(cfg config.Config, log *zap.Logger) fxevent.Logger {
	l := &fxevent.ZapLogger{Logger: log.Named("fx")}
	if cfg.LogFx {
		l.UseLogLevel(zapcore.InfoLevel)
	} else {
		l.Logger = log.Named("fx").WithOptions(zap.IncreaseLevel(zapcore.WarnLevel))
	}
	l.UseErrorLevel(zapcore.ErrorLevel)
	return l
}

type ctxKey struct{}

// WithContext stores a request-scoped logger.
func WithContext(ctx context.Context, log *zap.Logger) context.Context {
	return context.WithValue(ctx, ctxKey{}, log)
}

// FromContext returns the request-scoped logger, or a no-op logger.
func FromContext(ctx context.Context) *zap.Logger {
	if l, ok := ctx.Value(ctxKey{}).(*zap.Logger); ok {
		return l
	}
	return zap.NewNop()
}

type requestIDKey struct{}

// WithRequestID stores the request's correlation id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request's correlation id, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}
