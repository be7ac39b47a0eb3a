package httpserver

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/acme/monolith/platform/problem"
)

// connLimiter is the API listener: it caps open connections in total
// (HTTP_MAX_CONNS) and per client address (HTTP_MAX_CONNS_PER_IP), so that
// what unauthenticated connections can hold (each up to its route's body
// limit plus buffers while a body arrives, stalled or not) has a ceiling.
// fasthttp's own MaxConnsPerIP counts IPv4 only and cannot exempt our
// proxies, hence this wrapper. A refused connection gets a short problem
// response and is closed.
type connLimiter struct {
	net.Listener
	maxConns int // 0: no cap
	maxPerIP int // 0: no cap
	exempt   func(netip.Addr) bool

	mu    sync.Mutex
	open  int
	perIP map[netip.Prefix]int

	tooManyFromIP, tooMany []byte
	// lingering bounds the goroutines that drain a refused connection
	// before closing it.
	lingering chan struct{}
}

func newConnLimiter(ln net.Listener, maxConns, maxPerIP int, exempt func(netip.Addr) bool, hsts bool) *connLimiter {
	return &connLimiter{
		Listener: ln, maxConns: maxConns, maxPerIP: maxPerIP, exempt: exempt,
		perIP:         map[netip.Prefix]int{},
		tooManyFromIP: refusal(http.StatusTooManyRequests, "Too many open connections from your address; close some and retry.", hsts),
		tooMany:       refusal(http.StatusServiceUnavailable, "The server has too many open connections; retry shortly.", hsts),
		lingering:     make(chan struct{}, 64),
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
		case l.maxConns > 0 && l.open >= l.maxConns:
			l.mu.Unlock()
			l.refuse(c, l.tooMany)
			continue
		case counted && l.perIP[key] >= l.maxPerIP:
			l.mu.Unlock()
			l.refuse(c, l.tooManyFromIP)
			continue
		}
		l.open++
		if counted {
			l.perIP[key]++
		}
		l.mu.Unlock()
		return &limitedConn{Conn: c, l: l, key: key, counted: counted}, nil
	}
}

func (l *connLimiter) release(key netip.Prefix, counted bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if counted {
		if l.perIP[key]--; l.perIP[key] <= 0 {
			delete(l.perIP, key)
		}
	}
}

// refuse writes the canned answer and closes. The client may already be
// sending its request: closing with unread bytes would reset the
// connection and could destroy the answer, so, up to a bound, the
// connection is half-closed and drained briefly first (RFC 9112 §9.6).
func (l *connLimiter) refuse(c net.Conn, answer []byte) {
	_ = c.SetDeadline(time.Now().Add(time.Second))
	_, _ = c.Write(answer)
	select {
	case l.lingering <- struct{}{}:
		go func() {
			defer func() { <-l.lingering }()
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(c, 64<<10))
			_ = c.Close()
		}()
	default:
		_ = c.Close()
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
// may both close it).
type limitedConn struct {
	net.Conn
	l       *connLimiter
	key     netip.Prefix
	counted bool
	once    sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.key, c.counted) })
	return err
}

// refusal renders a complete HTTP/1.1 response with problem JSON and the
// security headers (the middleware that sets them never runs here).
func refusal(status int, detail string, hsts bool) []byte {
	p := problem.New(status, detail)
	p.Code = "too_many_connections"
	body, _ := json.Marshal(p)
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
