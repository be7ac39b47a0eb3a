package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// TestListenNoticesFrozenServer: a LISTEN connection to a server that
// stops answering without closing it would wait for notifications
// forever, believed healthy (so the session cache would keep trusting
// it). The listener pings when the connection is silent: it reports the
// loss, and once the server answers again it is back in place and
// delivers notifications.
func TestListenNoticesFrozenServer(t *testing.T) {
	if testkit.BehindPgBouncer() {
		t.Skip("the fault proxy stands in front of PgBouncer, and the listener never goes through it: covered by the run on the server")
	}
	db, px := testkit.NewFaultyPostgres(t, 3, func(c *config.Database) {
		c.QueryTimeout = frozenQueryTimeout
		c.URL += "&connect_timeout=600"
	})
	ready, lost, notes := make(chan struct{}, 16), make(chan struct{}, 16), make(chan string, 16)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err := db.Listen(ctx, "frozen_test", database.Subscriber{
		Ready:  func() { ready <- struct{}{} },
		Lost:   func() { lost <- struct{}{} },
		Notify: func(p string) { notes <- p },
	})
	if err != nil {
		t.Fatal(err)
	}
	<-ready

	px.Freeze()
	select {
	case <-lost:
	case <-time.After(time.Minute):
		t.Fatal("the listener did not notice the frozen server")
	}
	px.Restore()
	select {
	case <-ready:
	case <-time.After(time.Minute):
		t.Fatal("the listener did not come back after the freeze")
	}
	if _, err := db.SQL.ExecContext(ctx, "SELECT pg_notify('frozen_test', 'after')"); err != nil {
		t.Fatal(err)
	}
	select {
	case p := <-notes:
		if p != "after" {
			t.Fatalf("payload %q", p)
		}
	case <-time.After(time.Minute):
		t.Fatal("no notification after the listener came back")
	}
}
