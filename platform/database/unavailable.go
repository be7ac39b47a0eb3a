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
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
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
		// down or starting; 53300: too many connections; 57014: the
		// statement was cancelled (statement_timeout, or an operator).
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" ||
			pgErr.Code == "57P03" || pgErr.Code == "53300" || pgErr.Code == "57014"
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		strings.Contains(err.Error(), "conn closed")
}

// errQueryTimeout is the cause of the deadline Classify gives each call.
var errQueryTimeout = errors.New("no answer within DB_QUERY_TIMEOUT")

func classify(err error) error {
	if IsConnectionError(err) && !errors.Is(err, ErrUnavailable) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// classifyCall classifies the error of a call made with ctx, derived from
// the caller's parent. Which deadline expired decides: ours means the
// database did not answer in time (503 database_unavailable); the
// caller's own (a cancelled request, a shorter deadline of its own) is the
// caller's business, so the error stays a context error.
func classifyCall(ctx, parent context.Context, err error) error {
	switch {
	case err == nil || errors.Is(err, ErrUnavailable):
		return err
	case parent.Err() != nil:
		return err
	case errors.Is(context.Cause(ctx), errQueryTimeout) && interrupted(err):
		return fmt.Errorf("%w: %w: %w", ErrUnavailable, errQueryTimeout, err)
	}
	return classify(err)
}

// interrupted reports whether err is what a call cut short by its context
// returns, rather than an answer that merely came late (a unique
// violation found just after the deadline stays a conflict).
func interrupted(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, errQueryTimeout) || IsConnectionError(err)
}

// Classify wraps an ent driver so that connection errors from any query,
// transaction start or commit carry ErrUnavailable, and, when timeout is
// positive, every call gets a deadline of timeout unless its context ends
// sooner: a query (waiting for a pooled connection, running, reading its
// rows until they are closed), a statement in a transaction, and the
// transaction's begin, commit and rollback (each its own timeout; a
// transaction as a whole is not limited). A call that meets the deadline
// fails with ErrUnavailable. ent's schema tools, which need the driver's
// raw *sql.Rows, must be given an unwrapped driver (authoring.Generate is).
func Classify(d dialect.Driver, timeout time.Duration) dialect.Driver {
	return classifying{Driver: d, timeout: timeout}
}

type classifying struct {
	dialect.Driver
	timeout time.Duration
}

// bound returns ctx with the per-call deadline.
func bound(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, timeout, errQueryTimeout)
}

func (d classifying) Exec(ctx context.Context, query string, args, v any) error {
	cctx, cancel := bound(ctx, d.timeout)
	defer cancel()
	return classifyCall(cctx, ctx, d.Driver.Exec(cctx, query, args, v))
}

func (d classifying) Query(ctx context.Context, query string, args, v any) error {
	return boundQuery(ctx, d.timeout, d.Driver, query, args, v)
}

// boundQuery runs a query whose deadline also covers reading its rows: the
// context ends when the rows are closed (ent always closes them), not
// when Query returns, which would abort the rows unread.
func boundQuery(ctx context.Context, timeout time.Duration, q dialect.ExecQuerier, query string, args, v any) error {
	cctx, cancel := bound(ctx, timeout)
	if err := q.Query(cctx, query, args, v); err != nil {
		cancel()
		return classifyCall(cctx, ctx, err)
	}
	if rows, ok := v.(*entsql.Rows); ok && rows.ColumnScanner != nil {
		rows.ColumnScanner = boundRows{ColumnScanner: rows.ColumnScanner, ctx: cctx, parent: ctx, cancel: cancel}
		return nil
	}
	cancel()
	return nil
}

// boundRows releases the query's deadline when closed, and classifies the
// errors of reading rows the deadline cut short.
type boundRows struct {
	entsql.ColumnScanner
	ctx, parent context.Context
	cancel      context.CancelFunc
}

func (r boundRows) Close() error {
	err := r.ColumnScanner.Close()
	r.cancel()
	return classifyCall(r.ctx, r.parent, err)
}

func (r boundRows) Err() error { return classifyCall(r.ctx, r.parent, r.ColumnScanner.Err()) }

func (r boundRows) Scan(dest ...any) error {
	return classifyCall(r.ctx, r.parent, r.ColumnScanner.Scan(dest...))
}

func (d classifying) Tx(ctx context.Context) (dialect.Tx, error) {
	return d.begin(ctx, func(ctx context.Context) (dialect.Tx, error) { return d.Driver.Tx(ctx) })
}

// BeginTx keeps ent's Client.BeginTx (transaction options) working.
func (d classifying) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	b, ok := d.Driver.(interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
	})
	if !ok {
		return d.Tx(ctx)
	}
	return d.begin(ctx, func(ctx context.Context) (dialect.Tx, error) { return b.BeginTx(ctx, opts) })
}

// begin starts a transaction on a context of its own. database/sql binds
// a transaction to its begin's context (ending it rolls the transaction
// back) and pgx runs the commit on it, so a per-call deadline on that
// context would limit the whole transaction; instead a watchdog cancels
// it when begin, commit or rollback alone takes longer than the timeout.
// Statements get their own deadline.
func (d classifying) begin(parent context.Context, start func(context.Context) (dialect.Tx, error)) (dialect.Tx, error) {
	ctx, cancel := context.WithCancelCause(parent)
	t := &classifyingTx{ctx: ctx, parent: parent, cancel: cancel, timeout: d.timeout}
	var tx dialect.Tx
	fired, err := t.watch(func() (err error) {
		tx, err = start(ctx)
		return err
	})
	if err == nil && fired {
		// The watchdog fired as begin returned: database/sql rolls the
		// transaction back once the cancellation lands.
		<-ctx.Done()
		_ = tx.Rollback()
		err = context.Cause(ctx)
	}
	if err != nil {
		cancel(nil)
		return nil, classifyCall(ctx, parent, err)
	}
	capture(parent, tx)
	t.Tx = tx
	return t, nil
}

type classifyingTx struct {
	dialect.Tx
	ctx, parent context.Context
	cancel      context.CancelCauseFunc
	timeout     time.Duration
}

// watch runs fn with the watchdog armed, and reports whether it fired.
func (t *classifyingTx) watch(fn func() error) (fired bool, err error) {
	if t.timeout <= 0 {
		return false, fn()
	}
	w := time.AfterFunc(t.timeout, func() { t.cancel(errQueryTimeout) })
	err = fn()
	return !w.Stop(), err
}

func (t *classifyingTx) Exec(ctx context.Context, query string, args, v any) error {
	cctx, cancel := bound(ctx, t.timeout)
	defer cancel()
	return classifyCall(cctx, ctx, t.Tx.Exec(cctx, query, args, v))
}

func (t *classifyingTx) Query(ctx context.Context, q string, args, v any) error {
	return boundQuery(ctx, t.timeout, t.Tx, q, args, v)
}

func (t *classifyingTx) Commit() error { return t.end(t.Tx.Commit) }

func (t *classifyingTx) Rollback() error { return t.end(t.Tx.Rollback) }

// end commits or rolls back under the watchdog, then releases the
// transaction's context.
func (t *classifyingTx) end(fn func() error) error {
	fired, err := t.watch(fn)
	if err != nil && fired {
		<-t.ctx.Done() // the cancellation that interrupted fn has landed
	}
	err = classifyCall(t.ctx, t.parent, err)
	t.cancel(nil)
	return err
}

// ExecContext keeps ent's Tx.ExecContext (feature sql/execquery) working
// through the wrapper, for statements ent does not model (pg_notify).
func (t *classifyingTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ex, ok := t.Tx.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	})
	if !ok {
		return nil, errors.New("database: this transaction cannot run raw statements")
	}
	cctx, cancel := bound(ctx, t.timeout)
	defer cancel()
	r, err := ex.ExecContext(cctx, query, args...)
	return r, classifyCall(cctx, ctx, err)
}

// txSink receives the *sql.Tx under the next transaction begun with its
// context: ent's generated Tx does not expose it, and a library that
// writes through database/sql (the job queue) must join that very
// transaction.
type txSink struct{ tx *sql.Tx }

type txSinkKey struct{}

// CaptureTx returns a context for beginning one ent transaction through
// a driver wrapped by Classify, and a function that returns that
// transaction's *sql.Tx once it has begun (nil if the driver is not ours
// or nothing began).
func CaptureTx(ctx context.Context) (context.Context, func() *sql.Tx) {
	s := &txSink{}
	return context.WithValue(ctx, txSinkKey{}, s), func() *sql.Tx { return s.tx }
}

// capture hands the *sql.Tx under tx to the sink in ctx, if any.
func capture(ctx context.Context, tx dialect.Tx) {
	s, ok := ctx.Value(txSinkKey{}).(*txSink)
	if !ok {
		return
	}
	if et, ok := tx.(*entsql.Tx); ok {
		s.tx, _ = et.ExecQuerier.(*sql.Tx)
	}
}
