package httpserver

import (
	"bytes"
	"context"
	"net"
	"net/netip"

	"github.com/gofiber/fiber/v2"
)

type clientIPKey struct{}

// ClientIP is the request's client address (see proxies.clientIP): the
// connection's peer, or, when the peer is one of TRUSTED_PROXIES, the
// rightmost PROXY_HEADER entry that is not a trusted proxy. Throttling,
// the session list and the access log all read it.
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}

func withClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// proxies knows which peers may tell us the client's address.
type proxies struct {
	trusted []netip.Prefix
	header  string
}

// newProxies parses TRUSTED_PROXIES (addresses or CIDRs, validated by the
// config); IPv4-mapped entries are stored as IPv4, like the addresses they
// are compared with.
func newProxies(trusted []string, header string) proxies {
	p := proxies{header: header}
	for _, s := range trusted {
		if pre, err := netip.ParsePrefix(s); err == nil {
			if a := pre.Addr(); a.Is4In6() && pre.Bits() >= 96 {
				pre = netip.PrefixFrom(a.Unmap(), pre.Bits()-96)
			}
			p.trusted = append(p.trusted, pre.Masked())
		} else if a, err := netip.ParseAddr(s); err == nil {
			a = a.Unmap().WithZone("")
			p.trusted = append(p.trusted, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	return p
}

func (p proxies) trusts(a netip.Addr) bool {
	for _, pre := range p.trusted {
		if pre.Contains(a) {
			return true
		}
	}
	return false
}

// clientIP finds the client behind a chain of proxies. Each proxy appends
// the address it received the request from, so an entry can be believed
// only while every entry to its right was written by a trusted proxy: the
// walk goes right to left over every header line, skips trusted proxies and
// stops at the first address that is not one. The entries left of it are
// whatever the client sent. If every entry is a trusted proxy, the leftmost
// is the client. An entry that is not an address (garbage, "unknown", an
// empty one) ends the walk at the last address we could vouch for: the
// trusted hop to its right, or the peer itself.
func (p proxies) clientIP(peer netip.Addr, lines [][]byte) netip.Addr {
	if !p.trusts(peer) {
		return peer
	}
	client := peer
	for i := len(lines) - 1; i >= 0; i-- {
		rest := lines[i]
		for {
			entry := rest
			comma := bytes.LastIndexByte(rest, ',')
			if comma >= 0 {
				entry, rest = rest[comma+1:], rest[:comma]
			}
			a, ok := parseForwardedAddr(bytes.Trim(entry, " \t"))
			if !ok {
				return client
			}
			client = a
			if !p.trusts(a) {
				return a
			}
			if comma < 0 {
				break
			}
		}
	}
	return client
}

// parseForwardedAddr reads one X-Forwarded-For entry: an address,
// optionally bracketed (IPv6) or with a port, canonicalised.
func parseForwardedAddr(b []byte) (netip.Addr, bool) {
	s := string(b)
	a, err := netip.ParseAddr(s)
	if err != nil {
		if len(s) > 2 && s[0] == '[' && s[len(s)-1] == ']' {
			a, err = netip.ParseAddr(s[1 : len(s)-1])
		}
		if err != nil {
			ap, perr := netip.ParseAddrPort(s)
			if perr != nil {
				return netip.Addr{}, false
			}
			a = ap.Addr()
		}
	}
	return a.Unmap().WithZone(""), true
}

// of returns the client address of a request. The header lines come from
// the raw header section: fasthttp also merges a chunked body's trailer
// fields into the request's headers, and a trailer is the client's, not
// something a proxy vouched for.
func (p proxies) of(c *fiber.Ctx) string {
	peer := peerAddr(c.Context().RemoteAddr())
	if len(p.trusted) == 0 || !p.trusts(peer) {
		return peer.String()
	}
	return p.clientIP(peer, headerLines(c.Request().Header.RawHeaders(), p.header)).String()
}

// headerLines returns the values of every line of field name in a raw
// header section. It runs before strictFraming: a malformed section is
// refused right after, and its address only logged.
func headerLines(raw []byte, name string) [][]byte {
	var out [][]byte
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		k, v, ok := bytes.Cut(bytes.TrimRight(line, "\r"), []byte(":"))
		if ok && bytes.EqualFold(k, []byte(name)) {
			out = append(out, bytes.Trim(v, " \t"))
		}
	}
	return out
}

// peerAddr is the connection's remote address, canonical: IPv4-mapped IPv6
// addresses become IPv4 and zones are dropped.
func peerAddr(a net.Addr) netip.Addr {
	var ip netip.Addr
	switch t := a.(type) {
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(t.IP)
	default:
		if ap, err := netip.ParseAddrPort(a.String()); err == nil {
			ip = ap.Addr()
		}
	}
	return ip.Unmap().WithZone("")
}
