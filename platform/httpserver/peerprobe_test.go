package httpserver_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/peer"
	"github.com/acme/monolith/platform/testkit"
)

// watchRoutes has one operation that reports what the peer probe says
// while its client is connected, then after the client has gone.
type watchRoutes struct {
	started chan bool // Gone at the start of the request
	ended   chan bool // Gone once it turned true, or false after the bound
}

func (w watchRoutes) Register(api huma.API) {
	huma.Get(api, "/test/watch", func(ctx context.Context, _ *struct{}) (*struct{}, error) {
		w.started <- peer.Gone(ctx)
		gone := false
		for range 1000 { // bounded: 10 s
			if gone = peer.Gone(ctx); gone {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		w.ended <- gone
		return nil, nil
	})
}

// TestPeerProbe uses real sockets: while the client waits, even with a
// second request already sent (pipelined), the probe says it is there;
// once it closes its connection, the probe says it has gone. (fasthttp
// itself never cancels the request context.)
func TestPeerProbe(t *testing.T) {
	w := watchRoutes{started: make(chan bool, 1), ended: make(chan bool, 1)}
	app := apptest.Start(t, testkit.NewDB(t, "sqlite3"), testkit.WithFx(fx.Provide(httpserver.AsRoutes(func() watchRoutes { return w }))))
	addr := app.URL[len("http://"):]
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	req := "GET /test/watch HTTP/1.1\r\nHost: x\r\n\r\n"
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	select {
	case gone := <-w.started:
		if gone {
			t.Fatal("the probe says a connected client has gone")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the request never reached the handler")
	}
	// A pipelined request waiting in the socket is a client still there.
	if _, err := c.Write([]byte("GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let the handler poll with the bytes pending
	select {
	case <-w.ended:
		t.Fatal("the probe says a client with a pipelined request has gone")
	default:
	}
	_ = c.Close()
	select {
	case gone := <-w.ended:
		if !gone {
			t.Fatal("the probe never noticed the client closing")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("the handler did not finish")
	}
	// Control: a context without a probe (a CLI call) is never "gone".
	if peer.Gone(context.Background()) || peer.Watched(context.Background()) {
		t.Fatal("an unwatched context reports a client")
	}
}
