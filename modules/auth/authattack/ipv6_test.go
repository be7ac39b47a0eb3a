package authattack

import (
	"net"
	"net/http"
	"strconv"
	"testing"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/testkit"
)

// TestIPv6ClientsAreCountedPerPrefix: an IPv6 host picks any address of
// its /64, so the address counter is the /64: a client on ::1 (the peer
// itself) and forwarded addresses in ::/64 share one counter, whichever
// way they are written; an address in another /64 has its own. (ASVS 5.0
// V6.3 anti-automation.)
func TestIPv6ClientsAreCountedPerPrefix(t *testing.T) {
	if ln, err := net.Listen("tcp", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		_ = ln.Close()
	}
	app := apptest.Start(t, testkit.NewDB(t, "sqlite3"), testkit.WithConfig(func(c *config.Config) {
		c.HTTP.Addr = "[::1]:0"
		c.Sessions.TrustedProxies = []string{"::1"}
	}), testkit.WithEnv("AUTH_THROTTLE_ACCOUNT_IP_LIMIT", "2"), testkit.WithEnv("AUTH_THROTTLE_ACCOUNT_LIMIT", "4"), testkit.WithEnv("AUTH_THROTTLE_IP_LIMIT", "10"))
	fail := func(i int, forwarded string) int {
		t.Helper()
		f := form("grant_type", "password", "username", "spray"+strconv.Itoa(i)+"@example.test", "password", "wrong password")
		if forwarded == "" { // the peer's own address, ::1
			return app.Do(http.MethodPost, "/api/auth/login", f).Status
		}
		return app.Do(http.MethodPost, "/api/auth/login", f, testkit.Header{Key: "X-Forwarded-For", Value: forwarded}).Status
	}
	// Ten failures from four spellings of hosts in ::/64 use up its limit.
	for i, fwd := range []string{"", "", "", "::2", "::2", "::abcd:1", "::abcd:1", "0:0:0:0:ffff:1:2:3", "::FFFF:1:2:3", "::ffff:1:2:3"} {
		if got := fail(i, fwd); got != http.StatusBadRequest {
			t.Fatalf("failure %d (%q): %d, want 400", i, fwd, got)
		}
	}
	for _, fwd := range []string{"", "::1:2:3:4", "::5"} {
		if got := fail(100, fwd); got != http.StatusTooManyRequests {
			t.Fatalf("another host in ::/64 (%q) after its limit: %d, want 429", fwd, got)
		}
	}
	// Control: other /64s, even next door, are other clients.
	for _, fwd := range []string{"2001:db8::1", "0:0:0:1::1"} {
		if got := fail(200, fwd); got != http.StatusBadRequest {
			t.Fatalf("a client in another /64 (%q): %d, want 400", fwd, got)
		}
	}
}
