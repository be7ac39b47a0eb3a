package httpserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/acme/monolith/platform/problem"
)

// connLimiter is the API listener. It caps open connections in total
// (HTTP_MAX_CONNS) and per client address (HTTP_MAX_CONNS_PER_IP), so that
// what unauthenticated connections can hold (each up to its route's body
// limit plus buffers while a body arrives, stalled or not) has a ceiling;
// fasthttp's own MaxConnsPerIP counts IPv4 only and cannot exempt our
// proxies. A refused connection gets a short problem response and is
// closed. It also knows every open connection and whether it is between
// requests, which the shutdown needs (see drain).
type connLimiter struct {
	net.Listener
	maxConns int // 0: no cap
	maxPerIP int // 0: no cap
	exempt   func(netip.Addr) bool

	mu    sync.Mutex
	open  map[*limitedConn]struct{}
	perIP map[netip.Prefix]int

	closeOnce sync.Once
	closeErr  error

	tooManyFromIP, tooMany []byte
	// lingering bounds the goroutines that drain a closing connection
	// (closeGracefully).
	lingering chan struct{}
}

func newConnLimiter(ln net.Listener, maxConns, maxPerIP int, exempt func(netip.Addr) bool, hsts bool) *connLimiter {
	return &connLimiter{
		Listener: ln, maxConns: maxConns, maxPerIP: maxPerIP, exempt: exempt,
		open:          map[*limitedConn]struct{}{},
		perIP:         map[netip.Prefix]int{},
		tooManyFromIP: refusal(codeTooManyConnections, hsts),
		tooMany:       refusal(codeServerFull, hsts),
		lingering:     make(chan struct{}, 256),
	}
}

// Accept returns the next connection within the caps, answering and
// closing the others.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		key, counted := ipKey(peerAddr(c.RemoteAddr()))
		counted = counted && l.maxPerIP > 0 && !l.exempt(key.Addr())
		l.mu.Lock()
		switch {
		case l.maxConns > 0 && len(l.open) >= l.maxConns:
			l.mu.Unlock()
			l.refuse(c, l.tooMany)
			continue
		case counted && l.perIP[key] >= l.maxPerIP:
			l.mu.Unlock()
			l.refuse(c, l.tooManyFromIP)
			continue
		}
		lc := &limitedConn{Conn: c, l: l, key: key, counted: counted}
		lc.since.Store(time.Now().UnixNano())
		l.open[lc] = struct{}{}
		if counted {
			l.perIP[key]++
		}
		l.mu.Unlock()
		return lc, nil
	}
}

// Close stops accepting; open connections are not affected. Both the
// drain and fasthttp's shutdown call it.
func (l *connLimiter) Close() error {
	l.closeOnce.Do(func() { l.closeErr = l.Listener.Close() })
	return l.closeErr
}

func (l *connLimiter) release(c *limitedConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.open, c)
	if c.counted {
		if l.perIP[c.key]--; l.perIP[c.key] <= 0 {
			delete(l.perIP, c.key)
		}
	}
}

// refuse writes the canned answer and closes.
func (l *connLimiter) refuse(c net.Conn, answer []byte) {
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.Write(answer)
	l.closeGracefully(c, func() { _ = c.Close() })
}

// How long, and how much, a closing connection is drained.
const (
	lingerFor   = time.Second
	lingerBytes = 1 << 20
)

// closeGracefully closes c after the answer already written to it has a
// chance to arrive. The client may still be sending (the body of a
// request refused from its headers, a request refused before it was
// read): closing with unread bytes makes the kernel reset the connection,
// and a reset can destroy the answer before the client reads it, so the
// client would see a broken pipe instead of a 413. The connection is
// half-closed and what the client sends is discarded until it closes too,
// for at most lingerFor and lingerBytes (RFC 9112 §9.6 "lingering
// close"); beyond a bound on concurrent lingering, it closes at once.
func (l *connLimiter) closeGracefully(c net.Conn, done func()) {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		done()
		return
	}
	select {
	case l.lingering <- struct{}{}:
		go func() {
			defer func() { <-l.lingering }()
			_ = tc.SetReadDeadline(time.Now().Add(lingerFor))
			if tc.CloseWrite() == nil {
				_, _ = io.Copy(io.Discard, io.LimitReader(tc, lingerBytes))
			}
			done()
		}()
	default:
		done()
	}
}

// ipKey is the unit a per-IP cap counts: the address for IPv4, its /64
// for IPv6 (one host commonly holds a whole /64). ok is false when the
// peer has no IP address (a test's pipe).
func ipKey(a netip.Addr) (netip.Prefix, bool) {
	if !a.IsValid() {
		return netip.Prefix{}, false
	}
	if a.Is4() {
		return netip.PrefixFrom(a, 32), true
	}
	p, _ := a.Prefix(64)
	return p, true
}

// limitedConn gives its slot back when closed (once: fasthttp and a drain
// may both close it), and records whether it is serving a request.
type limitedConn struct {
	net.Conn
	l       *connLimiter
	key     netip.Prefix
	counted bool
	once    sync.Once
	closing atomic.Bool // closed, or draining before the close
	// busy is set while fasthttp reads or serves a request (ConnState
	// active), clear before the first request and between requests; since
	// is when it last changed (unix nanos).
	busy  atomic.Bool
	since atomic.Int64
}

// SyscallConn exposes the socket under the wrapper, so that the peer probe
// can ask the kernel whether the client is still there.
func (c *limitedConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := c.Conn.(syscall.Conn)
	if !ok {
		return nil, errors.New("httpserver: the connection has no socket")
	}
	return sc.SyscallConn()
}

// Close is how fasthttp ends a connection, after its last response: the
// close lingers (closeGracefully) so the response survives a client still
// sending.
func (c *limitedConn) Close() error {
	c.once.Do(func() {
		c.closing.Store(true)
		c.l.closeGracefully(c.Conn, c.finish)
	})
	return nil
}

// abort closes at once: for a connection between requests, with nothing
// to answer. fasthttp, blocked reading it, sees the error and gives up.
func (c *limitedConn) abort() {
	c.once.Do(func() {
		c.closing.Store(true)
		c.finish()
	})
}

func (c *limitedConn) finish() {
	_ = c.Conn.Close()
	c.l.release(c)
}

// connState is fasthttp's ConnState hook.
func connState(nc net.Conn, st fasthttp.ConnState) {
	c, ok := nc.(*limitedConn)
	if !ok {
		return
	}
	switch st {
	case fasthttp.StateActive:
		c.busy.Store(true)
		c.since.Store(time.Now().UnixNano())
	case fasthttp.StateIdle:
		c.busy.Store(false)
		c.since.Store(time.Now().UnixNano())
	}
}

// closeIdle closes the connections that are between requests and have been
// since notBefore for at least grace, and reports how many are still open.
func (l *connLimiter) closeIdle(notBefore time.Time, grace time.Duration) int {
	now := time.Now()
	l.mu.Lock()
	var quiet []*limitedConn
	for c := range l.open {
		if c.busy.Load() || c.closing.Load() {
			continue
		}
		since := time.Unix(0, c.since.Load())
		if since.Before(notBefore) {
			since = notBefore
		}
		if now.Sub(since) >= grace {
			quiet = append(quiet, c)
		}
	}
	open := len(l.open) - len(quiet)
	l.mu.Unlock()
	for _, c := range quiet {
		c.abort()
	}
	return open
}

// The connection caps' refusals. The server-wide cap is a busy server, as
// the password hasher's full queue is: the same code.
var (
	codeTooManyConnections = problem.Declare(http.StatusTooManyRequests, "too_many_connections",
		"Too many open connections from your address; close some and retry.")
	codeServerFull = problem.Declare(http.StatusServiceUnavailable, "server_busy", "The server is busy; try again shortly.")
)

// refusal renders a complete HTTP/1.1 response with problem JSON and the
// security headers (the middleware that sets them never runs here).
func refusal(code problem.Code, hsts bool) []byte {
	status := code.Status
	body, _ := json.Marshal(code.New())
	var b strings.Builder
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	fmt.Fprintf(&b, "Content-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\nRetry-After: 1\r\nCache-Control: %s\r\n", problem.ContentType, len(body), noStore)
	for _, h := range baseSecurityHeaders {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	fmt.Fprintf(&b, "Content-Security-Policy: %s\r\n", apiCSP)
	if hsts {
		fmt.Fprintf(&b, "Strict-Transport-Security: %s\r\n", hstsValue)
	}
	b.WriteString("\r\n")
	b.Write(body)
	return []byte(b.String())
}
