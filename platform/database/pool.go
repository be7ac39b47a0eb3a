package database

import (
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// TCP settings of every Postgres connection. A server that dies or drops
// off the network without closing its connections is noticed by the
// kernel: an idle connection after keepAliveIdle plus keepAliveCount
// unanswered probes (25 s), one with a request in flight when data stays
// unacknowledged for userTimeout (Linux). A frozen server process is not
// (its kernel still acknowledges): the per-call deadline of Classify and
// statement_timeout cover that.
const (
	keepAliveIdle     = 10 * time.Second
	keepAliveInterval = 5 * time.Second
	keepAliveCount    = 3
	userTimeout       = 20 * time.Second
)

// openPostgres builds the pool with pgx's stdlib connector (the "pgx"
// driver's semantics, connect_timeout included) over a dialer with the
// TCP settings above, and asks the server for statement_timeout =
// queryTimeout at connection start, so a statement the client has given
// up on does not keep running there. An explicit statement_timeout in the
// URL wins. (PgBouncer refuses startup parameters it does not know: see
// docs/operations.md.)
func openPostgres(setting, dsn string, queryTimeout time.Duration) (*sql.DB, error) {
	cc, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message quotes the URL, best-effort redacted; its cause
		// never holds it.
		if cause := errors.Unwrap(err); cause != nil {
			return nil, fmt.Errorf("%s is not a valid Postgres URL: %w", setting, cause)
		}
		return nil, fmt.Errorf("%s is not a valid Postgres URL (check its host, port and parameters)", setting)
	}
	d := &net.Dialer{
		Timeout: cc.ConnectTimeout,
		KeepAliveConfig: net.KeepAliveConfig{
			Enable: true, Idle: keepAliveIdle, Interval: keepAliveInterval, Count: keepAliveCount,
		},
		Control: setUserTimeout,
	}
	cc.DialFunc = d.DialContext
	if _, set := cc.RuntimeParams["statement_timeout"]; !set && queryTimeout > 0 {
		cc.RuntimeParams["statement_timeout"] = strconv.FormatInt(queryTimeout.Milliseconds(), 10)
	}
	return stdlib.OpenDB(*cc), nil
}
