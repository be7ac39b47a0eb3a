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
	// An error log is an event, not a crash: a stack of the logging call
	// buries the message (a failed start printed three). Recovered request
	// panics log their own stack; only DPanic and above add one here.
	zc.DisableStacktrace = true
	log, err := zc.Build(zap.AddStacktrace(zapcore.DPanicLevel))
	if err != nil {
		return nil, fmt.Errorf("build logger: %w", err)
	}
	return log, nil
}

// FxLogger routes fx's own events through zap. They are debug-level unless
// LOG_FX_EVENTS=true, so a normal start prints only what matters. Errors
// that fx also returns to the caller (a failed constructor, invoke or
// start hook) are left to the caller, which prints them once, as one
// line; fx would log each up to three times. Other fx errors (a failed
// stop hook) are always logged.
func FxLogger(cfg config.Config, log *zap.Logger) fxevent.Logger {
	l := &fxevent.ZapLogger{Logger: log.Named("fx")}
	l.UseErrorLevel(zapcore.ErrorLevel)
	if cfg.LogFx {
		l.UseLogLevel(zapcore.InfoLevel)
		return l
	}
	l.Logger = log.Named("fx").WithOptions(zap.IncreaseLevel(zapcore.WarnLevel))
	return returnedErrorsOmitted{l}
}

// returnedErrorsOmitted drops the fx events whose error fx.New or
// App.Start returns.
type returnedErrorsOmitted struct{ fxevent.Logger }

func (l returnedErrorsOmitted) LogEvent(e fxevent.Event) {
	switch e := e.(type) {
	case *fxevent.OnStartExecuted:
		if e.Err != nil {
			return
		}
	case *fxevent.RollingBack, *fxevent.RolledBack:
		return
	case *fxevent.Started:
		if e.Err != nil {
			return
		}
	case *fxevent.Provided:
		if e.Err != nil {
			return
		}
	case *fxevent.Invoked:
		if e.Err != nil {
			return
		}
	case *fxevent.Decorated:
		if e.Err != nil {
			return
		}
	case *fxevent.Supplied:
		if e.Err != nil {
			return
		}
	case *fxevent.Replaced:
		if e.Err != nil {
			return
		}
	case *fxevent.Run:
		if e.Err != nil {
			return
		}
	}
	l.Logger.LogEvent(e)
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
