package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Subscriber receives a Postgres notification channel. Ready runs each time
// LISTEN is in place; Lost runs each time the connection fails, after which
// notifications may have been missed until the next Ready.
type Subscriber struct {
	Ready  func()
	Notify func(payload string)
	Lost   func()
}

// ErrNoListen is Listen on a database without LISTEN/NOTIFY (SQLite).
var ErrNoListen = errors.New("database: LISTEN needs Postgres")

// Listen holds one connection of the direct pool (Direct: a transaction
// pooler would hand the session to other clients, and deliver nothing) for LISTEN on channel and
// delivers its notifications to sub until ctx ends, reconnecting with
// backoff when the connection fails. The first LISTEN is in place when
// Listen returns without error; the reconnect loop runs in the background.
func (db *DB) Listen(ctx context.Context, channel string, sub Subscriber) error {
	if db.Dialect != dialect.Postgres {
		return ErrNoListen
	}
	first := make(chan error, 1)
	go func() {
		backoff := 100 * time.Millisecond
		for ctx.Err() == nil {
			err := db.listenOnce(ctx, channel, sub, first)
			if ctx.Err() != nil {
				return
			}
			sub.Lost()
			select {
			case first <- err: // the first attempt failed: report it, keep trying
			default:
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 5*time.Second)
		}
	}()
	select {
	case err := <-first:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// listenCheck is how long the LISTEN connection may stay silent before it
// must answer a ping, and how long the ping may take: DB_QUERY_TIMEOUT,
// like any other call (30 s when that is off).
func (db *DB) listenCheck() time.Duration {
	if db.QueryTimeout > 0 {
		return db.QueryTimeout
	}
	return 30 * time.Second
}

// listenOnce runs LISTEN on one connection and delivers notifications
// until the connection or ctx fails. It signals ready (nil on first) once
// LISTEN is in place.
func (db *DB) listenOnce(ctx context.Context, channel string, sub Subscriber, first chan<- error) error {
	check := db.listenCheck()
	cctx, cancel := context.WithTimeout(ctx, check) // only for getting the connection
	conn, err := db.Direct().Conn(cctx)
	cancel()
	if err != nil {
		return fmt.Errorf("listen %s: %w", channel, err)
	}
	defer func() { _ = conn.Close() }()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("listen %s: driver connection is %T, not pgx", channel, dc)
		}
		pc := sc.Conn()
		lctx, cancel := context.WithTimeout(ctx, check)
		_, err := pc.Exec(lctx, "LISTEN "+pgx.Identifier{channel}.Sanitize())
		cancel()
		if err != nil {
			return errors.Join(fmt.Errorf("listen %s: %w", channel, err), driver.ErrBadConn)
		}
		sub.Ready()
		select {
		case first <- nil:
		default:
		}
		for {
			wctx, cancel := context.WithTimeout(ctx, check)
			n, err := pc.WaitForNotification(wctx)
			cancel()
			if err == nil {
				sub.Notify(n.Payload)
				continue
			}
			if ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) && !pc.IsClosed() {
				// Quiet for a while. A server that froze or vanished
				// without closing the connection sends nothing either:
				// ask it to answer (a timed-out wait leaves the
				// connection usable).
				pctx, cancel := context.WithTimeout(ctx, check)
				err = pc.Ping(pctx)
				cancel()
				if err == nil {
					continue
				}
			}
			// The connection is in an unknown state: the pool must not
			// reuse it.
			return errors.Join(fmt.Errorf("listen %s: %w", channel, err), driver.ErrBadConn)
		}
	})
}
