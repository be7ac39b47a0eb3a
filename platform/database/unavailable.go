package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"entgo.io/ent/dialect"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/acme/monolith/platform/fault"
)

// ErrUnavailable marks a failure to reach the database. Every query goes
// through the ent driver wrapped by Classify, so this is the one place where
// connection errors become a domain error (503 with code
// database_unavailable) rather than an opaque 500; the error still wraps the
// driver's, which is logged.
var ErrUnavailable = fault.New(fault.Unavailable, "database_unavailable", "The database is unavailable; try again shortly.")

// IsConnectionError reports whether err means the database could not be
// reached or the connection broke, as opposed to a query the database
// refused (a constraint, a syntax error), which stays as it is.
func IsConnectionError(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exception; 57P01-03: the server is shutting
		// down or starting; 53300: too many connections.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" ||
			pgErr.Code == "57P03" || pgErr.Code == "53300"
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		strings.Contains(err.Error(), "conn closed")
}

func classify(err error) error {
	if IsConnectionError(err) && !errors.Is(err, ErrUnavailable) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// Classify wraps an ent driver so that connection errors from any query,
// transaction start or commit carry ErrUnavailable.
func Classify(d dialect.Driver) dialect.Driver { return classifying{d} }

type classifying struct{ dialect.Driver }

func (d classifying) Exec(ctx context.Context, query string, args, v any) error {
	return classify(d.Driver.Exec(ctx, query, args, v))
}

func (d classifying) Query(ctx context.Context, query string, args, v any) error {
	return classify(d.Driver.Query(ctx, query, args, v))
}

func (d classifying) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.Driver.Tx(ctx)
	if err != nil {
		return nil, classify(err)
	}
	return classifyingTx{tx}, nil
}

// BeginTx keeps ent's Client.BeginTx (transaction options) working.
func (d classifying) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	b, ok := d.Driver.(interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
	})
	if !ok {
		return d.Tx(ctx)
	}
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return nil, classify(err)
	}
	return classifyingTx{tx}, nil
}

type classifyingTx struct{ dialect.Tx }

func (t classifyingTx) Exec(ctx context.Context, query string, args, v any) error {
	return classify(t.Tx.Exec(ctx, query, args, v))
}

func (t classifyingTx) Query(ctx context.Context, query string, args, v any) error {
	return classify(t.Tx.Query(ctx, query, args, v))
}

func (t classifyingTx) Commit() error { return classify(t.Tx.Commit()) }

// ExecContext keeps ent's Tx.ExecContext (feature sql/execquery) working
// through the wrapper, for statements ent does not model (pg_notify).
func (t classifyingTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ex, ok := t.Tx.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	})
	if !ok {
		return nil, errors.New("database: this transaction cannot run raw statements")
	}
	r, err := ex.ExecContext(ctx, query, args...)
	return r, classify(err)
}
