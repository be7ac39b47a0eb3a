package testkit

import (
	"context"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/migrator"
)

// FaultProxy forwards TCP to a database server and can take it away in the
// two ways production sees: Cut drops every connection and refuses new ones
// (a stopped server), Freeze keeps every connection open and forwards
// nothing, so the client's writes are acknowledged and no answer ever comes
// (a frozen process, a partition, a stuck failover). The shared server
// itself is never touched.
type FaultProxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	down    bool
	frozen  bool
	thawed  chan struct{} // closed when a freeze ends
	conns   map[net.Conn]bool
	stopped bool
}

// NewFaultProxy listens on a loopback port and forwards to target
// (host:port) until the test ends.
func NewFaultProxy(t testing.TB, target string) *FaultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &FaultProxy{ln: ln, target: target, conns: map[net.Conn]bool{}, thawed: make(chan struct{})}
	close(p.thawed)
	t.Cleanup(p.close)
	go p.serve()
	return p
}

// Addr is the proxy's host:port.
func (p *FaultProxy) Addr() string { return p.ln.Addr().String() }

// NewFaultyPostgres returns a fresh, migrated Postgres database reached
// through a FaultProxy, and the proxy. pool sets the pool size; configure
// changes the rest of the pool's settings (DB_QUERY_TIMEOUT...) before it
// opens.
func NewFaultyPostgres(t testing.TB, pool int, configure ...func(*config.Database)) (*database.DB, *FaultProxy) {
	t.Helper()
	u, err := url.Parse(NewDatabaseURL(t, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	px := NewFaultProxy(t, u.Host)
	u.Host = px.Addr()
	cfg := config.Database{URL: u.String(), MaxOpenConns: pool, MaxIdleConns: pool,
		ConnMaxLifetime: time.Hour, ConnMaxIdleTime: time.Hour, QueryTimeout: QueryTimeout}
	for _, f := range configure {
		f(&cfg)
	}
	db, err := database.Open(cfg)
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
	return db, px
}

func (p *FaultProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.handle(c)
	}
}

func (p *FaultProxy) handle(c net.Conn) {
	p.mu.Lock()
	down, thawed := p.down, p.thawed
	p.mu.Unlock()
	if down {
		_ = c.Close() // a stopped server: the peer sees the connection drop
		return
	}
	// A frozen server accepts the TCP connection (the kernel does) and
	// never answers the startup message.
	p.track(c)
	<-thawed
	up, err := net.DialTimeout("tcp", p.target, 3*time.Second)
	if err != nil {
		_ = c.Close()
		return
	}
	p.track(up)
	go p.pipe(c, up)
	go p.pipe(up, c)
}

func (p *FaultProxy) track(c net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		_ = c.Close()
		return
	}
	p.conns[c] = true
}

// pipe copies src to dst, holding every chunk while the proxy is frozen.
func (p *FaultProxy) pipe(dst, src net.Conn) {
	defer func() { _ = dst.Close(); _ = src.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			thawed := p.thawed
			p.mu.Unlock()
			<-thawed
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Cut drops every open connection and refuses new ones until Restore.
func (p *FaultProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	p.thawLocked() // held chunks are dropped with their connections
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// Freeze stops forwarding in both directions without closing anything.
func (p *FaultProxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.frozen {
		p.frozen = true
		p.thawed = make(chan struct{})
	}
}

// Restore ends a Cut or a Freeze: held data flows again and new
// connections are forwarded.
func (p *FaultProxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
	p.thawLocked()
}

func (p *FaultProxy) thawLocked() {
	if p.frozen {
		p.frozen = false
		close(p.thawed)
	}
}

func (p *FaultProxy) close() {
	_ = p.ln.Close()
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.Cut()
}
