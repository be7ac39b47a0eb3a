package httpserver

import (
	"net"
	"net/netip"
	"strings"
	"testing"
)

// TestClientIPFromForwardedFor: behind trusted proxies the client is the
// rightmost X-Forwarded-For entry that is not a trusted proxy, read across
// every header line; the leftmost entries are whatever the client sent.
func TestClientIPFromForwardedFor(t *testing.T) {
	p := newProxies([]string{"10.0.0.0/8", "127.0.0.1", "2001:db8:ffff::/48", "::ffff:192.0.2.1"}, "X-Forwarded-For")
	const proxy = "10.0.0.1" // the peer of every case unless said otherwise
	cases := []struct {
		name, peer string
		lines      []string
		want       string
	}{
		{"untrusted peer: header ignored", "203.0.113.9", []string{"198.51.100.1"}, "203.0.113.9"},
		{"no header", proxy, nil, proxy},
		{"one entry", proxy, []string{"203.0.113.7"}, "203.0.113.7"},
		{"client-forged leftmost, appended by the proxy", proxy, []string{"198.51.100.1, 203.0.113.7"}, "203.0.113.7"},
		{"forged, client, inner proxy", proxy, []string{"198.51.100.1, 203.0.113.7, 10.0.0.2"}, "203.0.113.7"},
		{"several header lines", proxy, []string{"198.51.100.1", "203.0.113.7, 10.0.0.2"}, "203.0.113.7"},
		{"forged line appended after", proxy, []string{"203.0.113.7", "198.51.100.66"}, "198.51.100.66"},
		{"every hop trusted: the leftmost", proxy, []string{"10.0.0.3, 10.0.0.2"}, "10.0.0.3"},
		{"garbage ends the walk at the last trusted hop", proxy, []string{"203.0.113.7, garbage, 10.0.0.2"}, "10.0.0.2"},
		{"garbage next to the peer: the peer", proxy, []string{"203.0.113.7, garbage"}, proxy},
		{"empty entry", proxy, []string{"203.0.113.7,,10.0.0.2"}, "10.0.0.2"},
		{"unknown (RFC 7239 obfuscation)", proxy, []string{"unknown"}, proxy},
		{"IPv6", proxy, []string{"2001:db8::7"}, "2001:db8::7"},
		{"IPv6 with port", proxy, []string{"[2001:db8::7]:4711"}, "2001:db8::7"},
		{"IPv6 bracketed", proxy, []string{"[2001:db8::7]"}, "2001:db8::7"},
		{"IPv6 trusted hop", proxy, []string{"2001:db8::7, 2001:db8:ffff::1"}, "2001:db8::7"},
		{"IPv4-mapped becomes IPv4", proxy, []string{"::ffff:203.0.113.7"}, "203.0.113.7"},
		{"IPv4 with port", proxy, []string{"203.0.113.7:5555"}, "203.0.113.7"},
		{"zone dropped", proxy, []string{"fe80::1%eth0"}, "fe80::1"},
		{"spaces and tabs", proxy, []string{" 203.0.113.7 ,\t10.0.0.2 "}, "203.0.113.7"},
		{"IPv4-mapped peer is the IPv4 proxy", "::ffff:127.0.0.1", []string{"203.0.113.7"}, "203.0.113.7"},
		{"IPv4-mapped trusted entry", "192.0.2.1", []string{"203.0.113.7"}, "203.0.113.7"},
		{"huge forged chain", proxy, []string{strings.Repeat("198.51.100.1,", 2000) + "203.0.113.7"}, "203.0.113.7"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			peer := netip.MustParseAddr(c.peer)
			lines := make([][]byte, len(c.lines))
			for i, l := range c.lines {
				lines[i] = []byte(l)
			}
			if got := p.clientIP(peer.Unmap(), lines).String(); got != c.want {
				t.Fatalf("clientIP(%s, %q) = %s, want %s", c.peer, c.lines, got, c.want)
			}
		})
	}
	// Without trusted proxies nothing is believed.
	if got := newProxies(nil, "X-Forwarded-For").clientIP(netip.MustParseAddr(proxy), [][]byte{[]byte("203.0.113.7")}); got.String() != proxy {
		t.Fatalf("no trusted proxies: %s", got)
	}
	if got := peerAddr(&net.TCPAddr{IP: net.ParseIP("::ffff:127.0.0.1"), Port: 1}); got.String() != "127.0.0.1" {
		t.Fatalf("peerAddr of an IPv4-mapped address = %s", got)
	}
}

func TestHeaderLines(t *testing.T) {
	raw := []byte("Host: x\r\nX-Forwarded-For: 198.51.100.1\r\nx-forwarded-for:203.0.113.7, 10.0.0.2 \r\nX-Forwarded-Foo: no\r\n\r\n")
	got := headerLines(raw, "X-Forwarded-For")
	if len(got) != 2 || string(got[0]) != "198.51.100.1" || string(got[1]) != "203.0.113.7, 10.0.0.2" {
		t.Fatalf("headerLines = %q", got)
	}
}
