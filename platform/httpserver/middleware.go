package httpserver

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"runtime/debug"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform/logging"
	"github.com/acme/monolith/platform/problem"
	"github.com/acme/monolith/platform/tracing"
)

// RequestIDHeader carries the correlation id in and out.
const RequestIDHeader = "X-Request-ID"

// A caller-supplied id is kept only if it is short and plain, so it cannot
// inject into logs.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// quietPaths are probed every few seconds; logging them buries real traffic.
var quietPaths = map[string]bool{"/livez": true, "/readyz": true}

// requestContext gives each request an id and a logger that carries it, in
// the request's context, and writes one access-log line when it ends.
// clientIP names the client (see proxies.of).
func requestContext(log *zap.Logger, clientIP func(*fiber.Ctx) string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		id := c.Get(RequestIDHeader)
		if !validRequestID.MatchString(id) {
			id = newRequestID()
		}
		c.Set(RequestIDHeader, id)
		reqLog := log.With(zap.String("request_id", id))
		if tid := tracing.TraceID(c.UserContext()); tid != "" {
			reqLog = reqLog.With(zap.String("trace_id", tid))
		}
		ip := clientIP(c)
		ctx := withClientIP(logging.WithRequestID(c.UserContext(), id), ip)
		ctx = withPeerProbe(ctx, c.Context().Conn())
		c.SetUserContext(logging.WithContext(ctx, reqLog))

		err := c.Next()
		if err != nil {
			// Let the error handler write the response now, so the status
			// logged below is the one the client gets.
			if herr := c.App().ErrorHandler(c, err); herr != nil {
				_ = c.SendStatus(fiber.StatusInternalServerError)
			}
		}
		if quietPaths[c.Path()] {
			return nil
		}
		status := c.Response().StatusCode()
		fields := []zap.Field{
			zap.String("method", c.Method()),
			zap.String("route", c.Route().Path),
			zap.String("path", c.Path()), // the query string is never logged: it may hold secrets
			zap.Int("status", status),
			zap.Duration("duration", time.Since(start)),
			zap.Int("bytes", len(c.Response().Body())),
			zap.String("remote_ip", ip),
		}
		switch {
		case status >= 500:
			reqLog.Error("request", fields...)
		default:
			reqLog.Info("request", fields...)
		}
		return nil
	}
}

// recoverPanics turns a panic into a logged 500 problem; the process lives on.
func recoverPanics() fiber.Handler {
	return func(c *fiber.Ctx) (err error) {
		defer func() {
			if r := recover(); r != nil {
				logging.FromContext(c.UserContext()).Error("panic while serving request",
					zap.Any("panic", r), zap.ByteString("stack", debug.Stack()))
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return c.Next()
	}
}

// errorHandler writes every error that reaches fiber (unknown route, wrong
// method, oversized body, panic) as problem JSON.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	var p *problem.Problem
	var fe *fiber.Error
	switch {
	case asFiberError(err, &fe):
		// The code's own detail, not fiber's message: it differs for one
		// condition ("Cannot GET /x") and may quote the request.
		p = problem.New(fe.Code)
		if fe.Code == fiber.StatusMethodNotAllowed {
			// fiber's Allow lists every method of any route matching
			// the path; the addressed route's own are the true answer.
			if allow := s.allowFor(c.Path()); allow != "" {
				c.Set(fiber.HeaderAllow, allow)
			}
		}
		if fe.Code >= 500 {
			p = problem.From(c.UserContext(), err)
		}
	default:
		p = problem.From(c.UserContext(), err)
	}
	if p.RequestID == "" {
		p.RequestID = logging.RequestID(c.UserContext())
	}
	c.Set(fiber.HeaderContentType, problem.ContentType)
	return c.Status(p.Status).JSON(p, problem.ContentType)
}

func asFiberError(err error, target **fiber.Error) bool {
	return errors.As(err, target)
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
