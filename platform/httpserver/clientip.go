package httpserver

import (
	"context"
	"net"
	"net/netip"
)

type clientIPKey struct{}

// ClientIP is the request's client address: the connection's peer, or the
// proxy header's value when the peer is one of TRUSTED_PROXIES (fiber's
// trusted-proxy check). Throttling keys on it.
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}

func withClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
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
