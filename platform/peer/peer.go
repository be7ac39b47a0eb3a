// Package peer lets work done on behalf of a request ask whether the
// client is still connected. fasthttp never cancels a request's context
// when the client goes away, so a request that waits for a scarce resource
// (a password-hashing slot) would otherwise be served to nobody. The HTTP
// server installs a probe in each request's context; code that waits polls
// Gone.
package peer

import "context"

type probeKey struct{}

// WithProbe returns ctx carrying gone, which reports whether the client
// has closed its connection. gone must be cheap and safe to call from any
// goroutine while the request is being served.
func WithProbe(ctx context.Context, gone func() bool) context.Context {
	return context.WithValue(ctx, probeKey{}, gone)
}

// Watched reports whether ctx carries a probe (requests from the HTTP
// server do; the CLI's and tests' direct calls do not).
func Watched(ctx context.Context) bool {
	_, ok := ctx.Value(probeKey{}).(func() bool)
	return ok
}

// Gone reports whether the client of ctx's request has gone away; false
// when nobody installed a probe.
func Gone(ctx context.Context) bool {
	gone, ok := ctx.Value(probeKey{}).(func() bool)
	return ok && gone()
}
