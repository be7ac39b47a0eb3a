package httpserver

import (
	"context"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.uber.org/zap"
)

// A keep-alive client may send its next request the instant it has read a
// response, so a server that closes a connection at any other moment can
// destroy a request in flight, and clients do not retry a POST (RFC 9112
// §9.3.1). fasthttp's shutdown does exactly that: it closes every idle
// connection at once and ends busy ones after their response, neither
// announced. The drain instead closes a connection only
//
//   - right after a response that said Connection: close (every response
//     from the moment readiness fails says it, closeWhenDraining), or
//   - once it has been idle, since the drain began, for
//     HTTP_SHUTDOWN_IDLE_GRACE: a client still using it would have sent a
//     request by then and been told to close.
//
// What remains is the race RFC 9112 §9.6 leaves to every server: a client
// that sends on a connection just as the server closes it for having been
// idle through the whole grace. Connections waiting in the kernel's accept
// queue when the listener closes are reset: they are new connections, and
// readiness has already sent new ones elsewhere.

// closeWhenDraining makes every response sent while readiness fails say
// Connection: close; fasthttp then closes the connection after writing it.
// It is checked after the handler, so a request that began before the
// drain and ends during it is covered too.
func (s *Server) closeWhenDraining() fiber.Handler {
	return func(c *fiber.Ctx) error {
		err := c.Next()
		if s.health.Draining() {
			c.Response().SetConnectionClose()
		}
		return err
	}
}

// drain stops accepting and waits until every connection has closed, by
// itself after a Connection: close response, or by us once idle for the
// grace since drainStart. It returns early when ctx ends.
func (s *Server) drain(ctx context.Context, drainStart time.Time) error {
	if err := s.ln.Close(); err != nil {
		s.log.Warn("closing the listener", zap.Error(err))
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		open := s.ln.closeIdle(drainStart, s.cfg.ShutdownIdleGrace)
		if open == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("drain: %d connections still open: %w", open, ctx.Err())
		case <-tick.C:
		}
	}
}
