package httpserver_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/testkit"
)

// sizeRoutes take bodies under three limits: the default, a raised one and
// a lowered one.
type sizeRoutes struct{}

type sizeIn struct {
	Body struct {
		Data string `json:"data"`
	}
}

type sizeOut struct {
	Body struct {
		Len int `json:"len"`
	}
}

func (sizeRoutes) Register(api huma.API) {
	h := func(_ context.Context, in *sizeIn) (*sizeOut, error) {
		out := &sizeOut{}
		out.Body.Len = len(in.Body.Data)
		return out, nil
	}
	huma.Register(api, huma.Operation{OperationID: "size-default", Method: http.MethodPost, Path: "/test/size"}, h)
	huma.Register(api, httpserver.WithBodyLimit(huma.Operation{OperationID: "size-large", Method: http.MethodPost, Path: "/test/size/{kind}/large"}, 256<<10), func(ctx context.Context, in *struct {
		Kind string `path:"kind"`
		sizeIn
	}) (*sizeOut, error) {
		return h(ctx, &in.sizeIn)
	})
	huma.Register(api, httpserver.WithBodyLimit(huma.Operation{OperationID: "size-small", Method: http.MethodPost, Path: "/test/size/small"}, 1<<10), h)
}

// jsonOfSize is a {"data":"xxx"} body of exactly n bytes.
func jsonOfSize(n int) string {
	const frame = len(`{"data":""}`)
	return `{"data":"` + strings.Repeat("x", n-frame) + `"}`
}

// TestBodyLimitPerOperation: each operation's limit applies before its
// body is read: an oversized Content-Length is a 413 from the headers
// alone, a chunked body is cut off at the limit, exactly the limit is
// accepted, and a module raises or lowers the default for its own routes
// with httpserver.WithBodyLimit.
func TestBodyLimitPerOperation(t *testing.T) {
	db := testkit.NewDB(t, "sqlite3")
	app := apptest.Start(t, db, testkit.WithFx(fx.Provide(httpserver.AsRoutes(func() sizeRoutes { return sizeRoutes{} }))))
	addr := strings.TrimPrefix(app.URL, "http://")
	def := app.Config.HTTP.BodyLimit
	if def != 64<<10 {
		t.Fatalf("default body limit %d, want 64 KiB", def)
	}

	for _, c := range []struct {
		name, path string
		size, want int
	}{
		{"default: exactly the limit", "/test/size", def, http.StatusOK},
		{"default: one byte over", "/test/size", def + 1, http.StatusRequestEntityTooLarge},
		{"raised", "/test/size/a/large", 200 << 10, http.StatusOK},
		{"raised: case and trailing slash do not escape it", "/TEST/Size/a/LARGE/", 200 << 10, http.StatusOK},
		{"raised: over", "/test/size/a/large", 256<<10 + 1, http.StatusRequestEntityTooLarge},
		{"lowered: a literal segment beats the parameter", "/test/size/small", 2 << 10, http.StatusRequestEntityTooLarge},
		{"lowered: within", "/test/size/small", 1 << 10, http.StatusOK},
		{"query string", "/test/size/a/large?x=1", 200 << 10, http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := app.Do(http.MethodPost, c.path, jsonOfSize(c.size))
			if res.Status != c.want {
				t.Fatalf("%d bytes to %s: %d, want %d: %.200s", c.size, c.path, res.Status, c.want, res.Body)
			}
			if c.want == http.StatusRequestEntityTooLarge && res.Problem(t).Code != "body_too_large" {
				t.Fatalf("code: %s", res.Body)
			}
		})
	}

	// From the headers alone: a declared length over the limit is refused
	// although no byte of the body was sent.
	x := rawExchange(t, addr, "POST /test/size HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "+strconv.Itoa(def+1)+"\r\n\r\n")
	if x.status != http.StatusRequestEntityTooLarge || !x.close || !strings.Contains(string(x.body), `"code":"body_too_large"`) {
		t.Fatalf("declared oversize: %d close=%v %s", x.status, x.close, x.body)
	}
	requireSecurityHeaders(t, x.header)

	// A chunked body stops at the limit.
	var chunks strings.Builder
	for range 20 {
		fmt.Fprintf(&chunks, "1000\r\n%s\r\n", strings.Repeat("y", 0x1000))
	}
	x = rawExchange(t, addr, "POST /test/size HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"+chunks.String()+"0\r\n\r\n")
	if x.status != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked oversize: %d %s", x.status, x.body)
	}

	// The token endpoint answers in RFC 6749 form.
	x = rawExchange(t, addr, "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "+strconv.Itoa(def+1)+"\r\n\r\n")
	if x.status != http.StatusRequestEntityTooLarge || !strings.Contains(string(x.body), `"error":"invalid_request"`) {
		t.Fatalf("token endpoint oversize: %d %s", x.status, x.body)
	}
}

// dialFrom opens a connection from a chosen loopback source address (all
// of 127.0.0.0/8 is local), so one test can be several clients.
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// served reports whether the server answers a request on c with 200 and
// keeps the connection; otherwise it returns the refusal it read.
func served(t *testing.T, c net.Conn) (bool, exchange) {
	t.Helper()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte("GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		return false, exchange{}
	}
	res, err := http.ReadResponse(bufioReader(c), nil)
	if err != nil {
		return false, exchange{}
	}
	body := readAll(res)
	return res.StatusCode == http.StatusOK && !res.Close, exchange{status: res.StatusCode, header: res.Header, close: res.Close, body: body}
}

// TestConnectionCaps: connections beyond HTTP_MAX_CONNS_PER_IP from one
// address get 429 problem JSON with the security headers and are closed,
// while other addresses are served; a closed connection frees its slot;
// beyond HTTP_MAX_CONNS everyone gets 503; trusted proxies are exempt from
// the per-IP cap.
func TestConnectionCaps(t *testing.T) {
	db := testkit.NewDB(t, "sqlite3")
	app := apptest.Start(t, db, testkit.WithConfig(func(c *config.Config) { c.HTTP.MaxConnsPerIP, c.HTTP.MaxConns = 3, 6 }))
	addr := strings.TrimPrefix(app.URL, "http://")
	var first []net.Conn
	for range 3 {
		c := dialFrom(t, "127.0.0.1", addr)
		if ok, x := served(t, c); !ok {
			t.Fatalf("a connection within the cap was refused: %d %s", x.status, x.body)
		}
		first = append(first, c)
	}
	ok, x := served(t, dialFrom(t, "127.0.0.1", addr))
	if ok || x.status != http.StatusTooManyRequests || !x.close || !strings.Contains(string(x.body), `"code":"too_many_connections"`) {
		t.Fatalf("the 4th connection from one address: ok=%v %d %s", ok, x.status, x.body)
	}
	requireSecurityHeaders(t, x.header)
	if ok, x := served(t, dialFrom(t, "127.0.0.2", addr)); !ok {
		t.Fatalf("another address was refused: %d %s", x.status, x.body)
	}
	// A closed connection gives its slot back (once the server has seen
	// the close).
	_ = first[0].Close()
	freed := false
	for range 100 {
		if ok, _ := served(t, dialFrom(t, "127.0.0.1", addr)); ok {
			freed = true
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !freed {
		t.Fatal("closing a connection did not free its slot")
	}
	// Now 3 from .1 and 1 from .2: two more fill the global cap of 6.
	for _, src := range []string{"127.0.0.3", "127.0.0.4"} {
		if ok, x := served(t, dialFrom(t, src, addr)); !ok {
			t.Fatalf("within the global cap, %s was refused: %d", src, x.status)
		}
	}
	if ok, x := served(t, dialFrom(t, "127.0.0.5", addr)); ok || x.status != http.StatusServiceUnavailable {
		t.Fatalf("beyond the global cap: ok=%v %d %s", ok, x.status, x.body)
	}

	// Trusted proxies carry many clients: no per-IP cap for them.
	proxied := apptest.Start(t, db, testkit.WithConfig(func(c *config.Config) {
		c.HTTP.MaxConnsPerIP = 2
		c.Sessions.TrustedProxies = []string{"127.0.0.1"}
	}))
	for i := range 5 {
		if ok, x := served(t, dialFrom(t, "127.0.0.1", strings.TrimPrefix(proxied.URL, "http://"))); !ok {
			t.Fatalf("trusted proxy connection %d refused: %d", i, x.status)
		}
	}
}

// TestRefusedBodyIsDrainedNotReset: after refusing a body from its headers,
// the server keeps reading (and discarding) what the client still sends
// until the client is done, then closes cleanly (lingering close, RFC 9112
// §9.6). Closing at once would make the kernel answer the rest of the body
// with a reset, which can destroy the 413 before a client still writing
// reads it; Go's client, under load, then reports "broken pipe" instead.
func TestRefusedBodyIsDrainedNotReset(t *testing.T) {
	db := testkit.NewDB(t, "sqlite3")
	app := apptest.Start(t, db, testkit.WithFx(fx.Provide(httpserver.AsRoutes(func() sizeRoutes { return sizeRoutes{} }))))
	conn, err := net.Dial("tcp", strings.TrimPrefix(app.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(conn, "POST /test/size HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", 1<<20); err != nil {
		t.Fatal(err)
	}
	br := bufioReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != http.StatusRequestEntityTooLarge || !res.Close {
		t.Fatalf("want 413 with Connection: close: %v %v", res, err)
	}
	readAll(res)
	// The client goes on sending its body: a closed peer answers with a
	// reset, which fails the next write.
	for i := range 5 {
		if _, err := conn.Write([]byte(strings.Repeat("x", 200<<10))); err != nil {
			t.Fatalf("write %d after the 413: %v (the server closed without draining)", i, err)
		}
	}
	_ = conn.(*net.TCPConn).CloseWrite()
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Fatalf("after the client's last byte: %q %v, want a clean close", rest, err)
	}
}
