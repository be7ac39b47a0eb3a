// Package throttle limits how often something may be attempted: sign-ins,
// token refreshes, password-recovery mails, registrations. Counters are
// fixed windows kept in the database (the throttles table), so every
// replica counts the same attempts.
//
// An attempt is reserved before the work it guards (the password check,
// the mail) with one atomic upsert per key that both counts and answers
// whether the caller is within the limit; there is no check-then-act gap,
// so a burst of simultaneous requests gets exactly the limit and no more.
// A reservation can be given back (Release) when the attempt turns out not
// to count, such as a successful sign-in, and all of a subject's counters
// of a rule can be forgotten at once (Forget), such as after a password
// reset.
package throttle

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	stdsql "database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/fault"
)

// ErrLimited is the answer to an attempt over a limit: the same code and
// message whichever counter tripped, so it reveals nothing about the
// account. Errors returned by Reserve carry the Retry-After.
var ErrLimited = fault.New(fault.TooManyRequests, "too_many_requests", "Too many attempts; try again later.")

// Rule is one limit: at most Limit attempts per Window for each key.
type Rule struct {
	// Name is stable and short (lower-case letters, digits, '.', '-'): it
	// is part of every key, so renaming it starts every counter afresh.
	Name   string
	Limit  int
	Window time.Duration
}

var validName = regexp.MustCompile(`^[a-z0-9.-]{1,60}$`)

// Subject is what a key counts: an account or a client address, in its
// canonical form. It is stored only as a keyed hash.
type Subject struct{ kind, value string }

// Account is an account as the client named it (an email). It is
// lower-cased, as the users module does, so one account has one counter
// whatever the case it is typed in.
func Account(name string) Subject { return Subject{"account", strings.ToLower(name)} }

// Address is a client IP address, canonicalised by CanonicalAddress, so
// that one host cannot rotate through the addresses of its own network.
func Address(ip string) Subject { return Subject{"address", CanonicalAddress(ip)} }

// CanonicalAddress is the form an address is counted under: IPv4-mapped
// IPv6 addresses become IPv4, zones are dropped, and IPv6 addresses become
// their /64 prefix (one customer's network: ISPs hand out /64s or larger,
// and a host picks any address in it). A value that is not an address
// (there is none without a connection) is counted as one shared subject.
func CanonicalAddress(ip string) string {
	a, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return "invalid"
	}
	a = a.WithZone("").Unmap()
	if a.Is4() {
		return a.String()
	}
	return netip.PrefixFrom(a, 64).Masked().String()
}

// Key is the counter of one rule for one subject, or for a pair of
// subjects (an account from one address).
type Key struct {
	rule  Rule
	first Subject
	more  []Subject
}

// Key returns the counter of r for first (and more, for a pair). It panics
// on a malformed rule name: rules are constants of the program.
func (r Rule) Key(first Subject, more ...Subject) Key {
	if !validName.MatchString(r.Name) {
		panic(fmt.Sprintf("throttle: invalid rule name %q", r.Name))
	}
	return Key{rule: r, first: first, more: more}
}

// Limiter reserves attempts against rules.
type Limiter struct {
	drv     dialect.Driver
	dialect string
	hitSQL  string // hitSQL in the dialect
	secret  func() ([]byte, error)
	now     func() time.Time
}

// New returns a limiter over db. The subject hashes are keyed with a key
// derived from secret (the same on every replica), so the table reveals
// neither emails nor addresses, even to a dictionary of them.
func New(db *database.DB, secret []byte) *Limiter {
	return NewDeferred(db, func() ([]byte, error) { return secret, nil })
}

// NewDeferred is New with the secret read at the first attempt, so that a
// process that builds the limiter but never counts (a one-shot command)
// needs no secret. secret is called once.
func NewDeferred(db *database.DB, secret func() ([]byte, error)) *Limiter {
	key := sync.OnceValues(func() ([]byte, error) {
		s, err := secret()
		if err != nil {
			return nil, err
		}
		m := hmac.New(sha256.New, s)
		m.Write([]byte("platform/throttle subject hashes"))
		return m.Sum(nil), nil
	})
	l := &Limiter{
		// Through the platform's classifying driver: a connection failure
		// is database.ErrUnavailable here too, like anywhere else.
		drv:     database.Classify(entsql.OpenDB(db.Dialect, db.SQL), db.QueryTimeout),
		dialect: db.Dialect,
		secret:  key,
		now:     time.Now,
	}
	l.hitSQL = l.sql(hitSQL)
	return l
}

func hash(secret []byte, s Subject) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(s.kind))
	m.Write([]byte{0})
	m.Write([]byte(s.value))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// ids are the stored id of k and the subject it is grouped under (the rule
// and its first subject), for Forget.
func (l *Limiter) ids(k Key) (id, subject string, err error) {
	secret, err := l.secret()
	if err != nil {
		return "", "", fmt.Errorf("throttle key: %w", err)
	}
	subject = k.rule.Name + ":" + hash(secret, k.first)
	id = subject
	for _, s := range k.more {
		id += ":" + hash(secret, s)
	}
	return id, subject, nil
}

// Reservation is the attempts taken by one Reserve; give them back with
// Release when the attempt must not count.
type Reservation struct {
	l   *Limiter
	ids map[string]bool
}

// Reserve counts one attempt on each key, in order. If a key is over its
// limit, Reserve stops there, gives back the attempts it took on the keys
// before it (a refused attempt costs its caller nothing, so a client
// refused for one account does not use up its address's allowance) and
// returns an error matching ErrLimited that says when that key's window
// ends (fault.Error.RetryAfter). Put the widest key first (the address),
// so a flood of distinct accounts from one address stops at the address
// and never writes their counters.
func (l *Limiter) Reserve(ctx context.Context, keys ...Key) (*Reservation, error) {
	res := &Reservation{l: l, ids: make(map[string]bool, len(keys))}
	now := l.now().UTC().Truncate(time.Microsecond)
	for _, k := range keys {
		id, subject, err := l.ids(k)
		if err != nil {
			_ = res.Release(ctx)
			return nil, err
		}
		count, ends, err := l.hit(ctx, id, subject, now, now.Add(k.rule.Window))
		if err != nil {
			_ = res.Release(ctx)
			return nil, fmt.Errorf("throttle %s: %w", k.rule.Name, err)
		}
		if count > k.rule.Limit {
			if err := res.Release(ctx); err != nil {
				return nil, err
			}
			return nil, ErrLimited.WithRetryAfter(max(ends.Sub(now), time.Second))
		}
		res.ids[id] = true
	}
	return res, nil
}

// Release gives back the attempt on keys (on every reserved key when none
// are named), so it does not count: the caller learnt nothing, or proved
// it had the right to try. It runs even if ctx is cancelled, and is safe
// on a nil Reservation (one Reserve refused).
func (r *Reservation) Release(ctx context.Context, keys ...Key) error {
	if r == nil {
		return nil
	}
	if len(keys) == 0 {
		give := make([]string, 0, len(r.ids))
		for id := range r.ids {
			give = append(give, id)
		}
		return r.settle(ctx, give, nil)
	}
	return r.Settle(ctx, keys, nil)
}

// Settle ends an attempt that succeeded: the attempt on each key of
// release is given back (as by Release) and the counters of clear are
// emptied (failures the success has made moot), in one statement, since
// this is on every sign-in's path. It runs even if ctx is cancelled, and
// is safe on a nil Reservation.
func (r *Reservation) Settle(ctx context.Context, release, clear []Key) error {
	if r == nil {
		return nil
	}
	var give, empty []string
	for _, k := range release {
		id, _, err := r.l.ids(k)
		if err != nil {
			return err
		}
		if r.ids[id] {
			give = append(give, id)
		}
	}
	for _, k := range clear {
		id, _, err := r.l.ids(k)
		if err != nil {
			return err
		}
		empty = append(empty, id)
	}
	return r.settle(ctx, give, empty)
}

// settle gives back the attempts on the counters give and empties the
// counters empty. An emptied counter keeps its row and window, like one
// whose attempts were all given back; Prune deletes it when the window
// ends.
func (r *Reservation) settle(ctx context.Context, give, empty []string) error {
	if len(give)+len(empty) == 0 {
		return nil
	}
	ctx, cancel := detached(ctx)
	defer cancel()
	args := make([]any, 0, len(give)+len(empty))
	list := func(ids []string) string {
		marks := make([]string, len(ids))
		for i, id := range ids {
			delete(r.ids, id)
			args = append(args, id)
			marks[i] = r.l.mark(len(args))
		}
		return strings.Join(marks, ", ")
	}
	var q string
	switch {
	case len(empty) == 0:
		q = "UPDATE throttles SET count = count - 1 WHERE count > 0 AND id IN (" + list(give) + ")"
	case len(give) == 0:
		q = "UPDATE throttles SET count = 0 WHERE count > 0 AND id IN (" + list(empty) + ")"
	default:
		emptied := list(empty)
		q = "UPDATE throttles SET count = CASE WHEN id IN (" + emptied + ") THEN 0 ELSE count - 1 END" +
			" WHERE count > 0 AND id IN (" + emptied + ", " + list(give) + ")"
	}
	if err := r.l.drv.Exec(ctx, q, args, nil); err != nil {
		return fmt.Errorf("throttle: settle: %w", err)
	}
	return nil
}

// Clear deletes the counters of keys (a pair whose failures a success
// has made moot).
func (l *Limiter) Clear(ctx context.Context, keys ...Key) error {
	ctx, cancel := detached(ctx)
	defer cancel()
	for _, k := range keys {
		id, _, err := l.ids(k)
		if err != nil {
			return err
		}
		if err := l.exec(ctx, "DELETE FROM throttles WHERE id = $1", id); err != nil {
			return fmt.Errorf("throttle %s: clear: %w", k.rule.Name, err)
		}
	}
	return nil
}

// Forget deletes every counter of rule about s: its own and those of its
// pairs with any other subject (an account with every address).
func (l *Limiter) Forget(ctx context.Context, rule Rule, s Subject) error {
	ctx, cancel := detached(ctx)
	defer cancel()
	_, subject, err := l.ids(rule.Key(s))
	if err != nil {
		return err
	}
	if err := l.exec(ctx, "DELETE FROM throttles WHERE subject = $1", subject); err != nil {
		return fmt.Errorf("throttle %s: forget: %w", rule.Name, err)
	}
	return nil
}

// legacyRetention is how long rows written by earlier releases (no
// expires_at; their windows were minutes) are kept.
const legacyRetention = 24 * time.Hour

// pruneBatch bounds one delete, so pruning after a flood never holds a
// long transaction.
const pruneBatch = 5000

// Prune deletes the counters whose window has ended; it returns how many.
func (l *Limiter) Prune(ctx context.Context) (int64, error) {
	now := l.now().UTC().Truncate(time.Microsecond)
	var total int64
	for {
		var res stdsql.Result
		err := l.drv.Exec(ctx, l.sql(`DELETE FROM throttles WHERE id IN (SELECT id FROM throttles
			WHERE expires_at < $1 OR (expires_at IS NULL AND window_start < $2) LIMIT `+strconv.Itoa(pruneBatch)+`)`),
			[]any{now, now.Add(-legacyRetention)}, &res)
		if err != nil {
			return total, fmt.Errorf("throttle: prune: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return total, fmt.Errorf("throttle: prune: %w", err)
		}
		total += n
		if n < pruneBatch || ctx.Err() != nil {
			return total, nil
		}
	}
}

// hitSQL is the statement of hit, with Postgres placeholders.
const hitSQL = `INSERT INTO throttles (id, subject, count, window_start, expires_at) VALUES ($1, $2, 1, $3, $4)
	ON CONFLICT (id) DO UPDATE SET
		count = CASE WHEN ` + overSQL + ` THEN 1 ELSE throttles.count + 1 END,
		window_start = CASE WHEN ` + overSQL + ` THEN excluded.window_start ELSE throttles.window_start END,
		expires_at = CASE WHEN ` + overSQL + ` THEN excluded.expires_at ELSE throttles.expires_at END,
		subject = excluded.subject
	RETURNING count, expires_at`

// overSQL is true when the stored window has ended by the new attempt's.
const overSQL = "throttles.expires_at IS NULL OR throttles.expires_at <= excluded.window_start"

// hit is the reservation: one statement that starts a new window when the
// last one is over (or there is none), otherwise adds one, and returns the
// count and when the window ends. Postgres takes the row lock for the
// update, SQLite the database write lock, so concurrent hits never lose a
// count nor see the same one.
func (l *Limiter) hit(ctx context.Context, id, subject string, now, ends time.Time) (int, time.Time, error) {
	var rows entsql.Rows
	if err := l.drv.Query(ctx, l.hitSQL, []any{id, subject, now, ends}, &rows); err != nil {
		return 0, time.Time{}, err
	}
	defer func() { _ = rows.Close() }()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return 0, time.Time{}, classify(err)
		}
		return 0, time.Time{}, errors.New("upsert returned no row")
	}
	var count int
	var expires time.Time
	if err := rows.Scan(&count, &expires); err != nil {
		return 0, time.Time{}, classify(err)
	}
	return count, expires.UTC(), classify(rows.Close())
}

func (l *Limiter) exec(ctx context.Context, q string, args ...any) error {
	return l.drv.Exec(ctx, l.sql(q), args, nil)
}

// mark is the n-th placeholder in the dialect.
func (l *Limiter) mark(n int) string {
	if l.dialect == dialect.SQLite {
		return "?" + strconv.Itoa(n)
	}
	return "$" + strconv.Itoa(n)
}

// sql writes the placeholders of q ($1, $2 ...) for the dialect: SQLite
// spells them ?1, ?2.
func (l *Limiter) sql(q string) string {
	if l.dialect == dialect.SQLite {
		return strings.ReplaceAll(q, "$", "?")
	}
	return q
}

// classify marks a connection failure met while reading rows, which the
// driver wrapper (which sees only the query call) cannot.
func classify(err error) error {
	if err != nil && database.IsConnectionError(err) && !errors.Is(err, database.ErrUnavailable) {
		return fmt.Errorf("%w: %w", database.ErrUnavailable, err)
	}
	return err
}

// detached keeps work that undoes or tidies a reservation running when the
// request's client has gone, bounded so it cannot hang.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
}
