package httpserver

import "context"

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
