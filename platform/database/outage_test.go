package database_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"go.uber.org/zap"

	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/migrator"
	"github.com/acme/monolith/platform/testkit"
)

// proxy forwards TCP to a target and can cut every connection, so a test
// can take "the database" away without stopping the shared Postgres server.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]bool
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { _ = ln.Close(); p.cut() })
	go p.serve()
	return p
}

func (p *proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		down := p.down
		p.mu.Unlock()
		if down {
			_ = c.Close() // an outage: the peer sees the connection drop
			continue
		}
		up, err := net.DialTimeout("tcp", p.target, 3*time.Second)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.track(c, up)
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *proxy) track(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		p.conns[c] = true
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
}

// cut drops every open connection and refuses new ones until restore.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

func (p *proxy) restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// TestDatabaseOutage: with the database cut off, readiness fails within
// seconds, API calls answer 503 problem JSON instead of hanging or 500, the
// process stays alive, and it recovers by itself when the database returns.
func TestDatabaseOutage(t *testing.T) {
	direct := testkit.NewDatabaseURL(t, dialect.Postgres)
	u, err := url.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	px := newProxy(t, u.Host)
	u.Host = px.ln.Addr().String()
	db, err := database.Open(config.Database{URL: u.String(), MaxOpenConns: 5, MaxIdleConns: 5, ConnMaxLifetime: time.Hour, ConnMaxIdleTime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	m, err := migrator.New(db, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
	app := testkit.Start(t, db)
	token := app.SuperuserToken()

	// Control: all is well through the proxy.
	if res := app.Do(http.MethodGet, "/readyz", nil); res.Status != http.StatusOK {
		t.Fatalf("readyz before the outage: %d %s", res.Status, res.Body)
	}
	if res := app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(token)); res.Status != http.StatusOK {
		t.Fatalf("me before the outage: %d %s", res.Status, res.Body)
	}

	px.cut()
	// Each call must answer, not hang: the client gives up after 10 s.
	app.HTTP.Timeout = 10 * time.Second
	for i := range 3 { // several, so that every pooled connection meets the cut
		res := app.Do(http.MethodGet, "/readyz", nil)
		if res.Status != http.StatusServiceUnavailable {
			t.Fatalf("readyz during the outage (%d): %d %s", i, res.Status, res.Body)
		}
		for _, path := range []string{"/api/users/me", "/api/users"} {
			res = app.Do(http.MethodGet, path, nil, testkit.Bearer(token))
			if res.Status != http.StatusServiceUnavailable {
				t.Fatalf("%s during the outage: %d %s", path, res.Status, res.Body)
			}
			if p := res.Problem(t); p.Code != "database_unavailable" {
				t.Fatalf("%s during the outage: code %q", path, p.Code)
			}
		}
	}
	if res := app.Do(http.MethodGet, "/livez", nil); res.Status != http.StatusOK {
		t.Fatalf("livez during the outage: %d (liveness must not depend on the database)", res.Status)
	}

	px.restore()
	deadline := time.Now().Add(15 * time.Second)
	for {
		res := app.Do(http.MethodGet, "/readyz", nil)
		if res.Status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz did not recover: %d %s", res.Status, res.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if res := app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(token)); res.Status != http.StatusOK {
		t.Fatalf("me after recovery: %d %s", res.Status, res.Body)
	}
}

func TestIsConnectionError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{io.ErrUnexpectedEOF, true},
		{context.Canceled, false},
		{errors.New("duplicate key value violates unique constraint"), false},
		{nil, false},
	} {
		if got := database.IsConnectionError(tc.err); got != tc.want {
			t.Errorf("IsConnectionError(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
