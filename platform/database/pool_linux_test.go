package database_test

import (
	"context"
	"net"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5/stdlib"
	"golang.org/x/sys/unix"

	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// TestPoolSocketOptions reads back, from a real pooled connection, what
// the pool promises the kernel and the server: keepalive (10 s idle, 5 s
// apart, 3 probes), TCP_USER_TIMEOUT of 20 s, and statement_timeout equal
// to DB_QUERY_TIMEOUT unless the URL sets its own.
func TestPoolSocketOptions(t *testing.T) {
	// The server itself: PgBouncer ignores the statement_timeout startup
	// parameter by design (docs/operations.md, "PgBouncer").
	_, url := testkit.NewDatabaseURLs(t, dialect.Postgres)
	open := func(url string) *database.DB {
		db, err := database.Open(config.Database{URL: url, MaxOpenConns: 1, QueryTimeout: 1500 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	db := open(url)
	ctx := context.Background()
	conn, err := db.SQL.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	got := map[string]int{}
	err = conn.Raw(func(dc any) error {
		tcp, ok := dc.(*stdlib.Conn).Conn().PgConn().Conn().(*net.TCPConn)
		if !ok {
			t.Fatalf("the connection is %T, not TCP", dc.(*stdlib.Conn).Conn().PgConn().Conn())
		}
		raw, err := tcp.SyscallConn()
		if err != nil {
			return err
		}
		return raw.Control(func(fd uintptr) {
			for name, opt := range map[string][2]int{
				"SO_KEEPALIVE":     {unix.SOL_SOCKET, unix.SO_KEEPALIVE},
				"TCP_KEEPIDLE":     {unix.IPPROTO_TCP, unix.TCP_KEEPIDLE},
				"TCP_KEEPINTVL":    {unix.IPPROTO_TCP, unix.TCP_KEEPINTVL},
				"TCP_KEEPCNT":      {unix.IPPROTO_TCP, unix.TCP_KEEPCNT},
				"TCP_USER_TIMEOUT": {unix.IPPROTO_TCP, unix.TCP_USER_TIMEOUT},
			} {
				v, err := unix.GetsockoptInt(int(fd), opt[0], opt[1])
				if err != nil {
					t.Errorf("getsockopt %s: %v", name, err)
				}
				got[name] = v
			}
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"SO_KEEPALIVE": 1, "TCP_KEEPIDLE": 10, "TCP_KEEPINTVL": 5, "TCP_KEEPCNT": 3, "TCP_USER_TIMEOUT": 20000}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %d, want %d", k, got[k], v)
		}
	}
	var st string
	if err := conn.QueryRowContext(ctx, "SHOW statement_timeout").Scan(&st); err != nil || st != "1500ms" {
		t.Errorf("statement_timeout = %q (%v), want 1500ms (DB_QUERY_TIMEOUT)", st, err)
	}
	if err := open(url+"&statement_timeout=7s").SQL.QueryRowContext(ctx, "SHOW statement_timeout").Scan(&st); err != nil || st != "7s" {
		t.Errorf("statement_timeout with the URL's own = %q (%v), want 7s", st, err)
	}
}
