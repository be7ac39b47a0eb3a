package throttle_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/testkit"
	"github.com/acme/monolith/platform/throttle"
)

var secret = []byte("0123456789abcdef0123456789abcdef")

// clock is a settable time, so window ends are tested without waiting.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newLimiter(db *database.DB) (*throttle.Limiter, *clock) {
	l := throttle.New(db, secret)
	c := &clock{t: time.Now()}
	throttle.SetClock(l, c.now)
	return l, c
}

func rows(t *testing.T, db *database.DB) int {
	t.Helper()
	var n int
	if err := db.SQL.QueryRow("SELECT count(*) FROM throttles").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReserveHoldsTheLimitUnderABurst releases 120 goroutines together on
// one key of limit 5: exactly five get through, on both databases. A
// check-then-count limiter lets most of the burst through.
func TestReserveHoldsTheLimitUnderABurst(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		l, _ := newLimiter(db)
		rule := throttle.Rule{Name: "test.burst", Limit: 5, Window: time.Minute}
		key := rule.Key(throttle.Account("victim@example.test"))
		const n = 120
		var ok, limited atomic.Int32
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, n)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := l.Reserve(context.Background(), key)
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, throttle.ErrLimited):
					limited.Add(1)
					if fe, _ := fault.As(err); fe.RetryAfter < time.Second || fe.RetryAfter > time.Minute {
						errs <- fmt.Errorf("retry after %v", fe.RetryAfter)
					}
				default:
					errs <- err
				}
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if ok.Load() != 5 || limited.Load() != n-5 {
			t.Fatalf("%d reserved, %d limited; want 5 and %d", ok.Load(), limited.Load(), n-5)
		}
	})
}

// TestWindow: the limit holds until the window ends, then the count starts
// again; Retry-After says when the window ends.
func TestWindow(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		l, c := newLimiter(db)
		rule := throttle.Rule{Name: "test.window", Limit: 2, Window: 10 * time.Minute}
		key := rule.Key(throttle.Address("192.0.2.1"))
		for i := range 2 {
			if _, err := l.Reserve(ctx, key); err != nil {
				t.Fatalf("attempt %d: %v", i, err)
			}
		}
		c.add(4 * time.Minute)
		_, err := l.Reserve(ctx, key)
		fe, _ := fault.As(err)
		if !errors.Is(err, throttle.ErrLimited) || fe.RetryAfter != 6*time.Minute {
			t.Fatalf("third attempt: %v (retry after %v, want 6m)", err, fe)
		}
		c.add(6 * time.Minute) // the window's end: a new one starts
		for i := range 2 {
			if _, err := l.Reserve(ctx, key); err != nil {
				t.Fatalf("next window, attempt %d: %v", i, err)
			}
		}
		if _, err := l.Reserve(ctx, key); !errors.Is(err, throttle.ErrLimited) {
			t.Fatalf("next window holds the limit too: %v", err)
		}
	})
}

// TestReleaseClearForget: a released attempt does not count; a refused
// one gives back the keys reserved before it; Clear deletes one counter;
// Forget deletes an account's counter with each of its pairs and nothing
// of another account.
func TestReleaseClearForget(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		l, _ := newLimiter(db)
		pairRule := throttle.Rule{Name: "test.pair", Limit: 1, Window: time.Hour}
		ipRule := throttle.Rule{Name: "test.ip", Limit: 2, Window: time.Hour}
		owner, other := throttle.Account("Owner@Example.test"), throttle.Account("other@example.test")
		a, b := throttle.Address("198.51.100.1"), throttle.Address("198.51.100.2")

		res, err := l.Reserve(ctx, ipRule.Key(a), pairRule.Key(owner, a))
		if err != nil {
			t.Fatal(err)
		}
		if err := res.Release(ctx, ipRule.Key(a)); err != nil {
			t.Fatal(err)
		}
		// The pair is used up; refusing it gives the address's attempt back,
		// so the address still has both of its attempts.
		for range 3 {
			if _, err := l.Reserve(ctx, ipRule.Key(a), pairRule.Key(throttle.Account("owner@example.test"), a)); !errors.Is(err, throttle.ErrLimited) {
				t.Fatalf("used-up pair (the account in another case): %v", err)
			}
		}
		for i := range 2 {
			if _, err := l.Reserve(ctx, ipRule.Key(a)); err != nil {
				t.Fatalf("address attempt %d after refusals: %v", i, err)
			}
		}
		if _, err := l.Reserve(ctx, ipRule.Key(a)); !errors.Is(err, throttle.ErrLimited) {
			t.Fatalf("address over its limit: %v", err)
		}
		if err := l.Clear(ctx, ipRule.Key(a)); err != nil {
			t.Fatal(err)
		}
		if _, err := l.Reserve(ctx, ipRule.Key(a)); err != nil {
			t.Fatalf("after Clear: %v", err)
		}

		for _, k := range []throttle.Key{pairRule.Key(owner, b), pairRule.Key(other, a), pairRule.Key(owner)} {
			if _, err := l.Reserve(ctx, k); err != nil {
				t.Fatal(err)
			}
		}
		if err := l.Forget(ctx, pairRule, owner); err != nil {
			t.Fatal(err)
		}
		for _, k := range []throttle.Key{pairRule.Key(owner, a), pairRule.Key(owner, b), pairRule.Key(owner)} {
			if _, err := l.Reserve(ctx, k); err != nil {
				t.Fatalf("forgotten counter still counts: %v", err)
			}
		}
		if _, err := l.Reserve(ctx, pairRule.Key(other, a)); !errors.Is(err, throttle.ErrLimited) {
			t.Fatalf("another account's pair was forgotten too: %v", err)
		}
		var nilRes *throttle.Reservation
		if err := nilRes.Release(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSettleGivesBackAndEmpties: a sign-in's success, in one call, gives
// back its own attempt on the address and the account and empties the
// pair's counter, failures included; the failure before it stays counted
// on the address and the account, and nothing is given back twice.
func TestSettleGivesBackAndEmpties(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		l, _ := newLimiter(db)
		ipRule := throttle.Rule{Name: "test.ip", Limit: 3, Window: time.Hour}
		pairRule := throttle.Rule{Name: "test.pair", Limit: 2, Window: time.Hour}
		acctRule := throttle.Rule{Name: "test.account", Limit: 3, Window: time.Hour}
		acct, addr := throttle.Account("Zoë@example.test"), throttle.Address("2001:db8::1")
		ip, pair, account := ipRule.Key(addr), pairRule.Key(acct, addr), acctRule.Key(acct)

		if _, err := l.Reserve(ctx, ip, pair, account); err != nil { // a failure: kept
			t.Fatal(err)
		}
		res, err := l.Reserve(ctx, ip, pair, account)
		if err != nil {
			t.Fatal(err)
		}
		if err := res.Settle(ctx, []throttle.Key{ip, account}, []throttle.Key{pair}); err != nil {
			t.Fatal(err)
		}
		if err := res.Release(ctx); err != nil { // nothing is left to give back
			t.Fatal(err)
		}
		// Each counter takes exactly what is left of its limit.
		for _, c := range []struct {
			name string
			key  throttle.Key
			left int
		}{{"pair", pair, 2}, {"address", ip, 2}, {"account", account, 2}} {
			for i := range c.left {
				if _, err := l.Reserve(ctx, c.key); err != nil {
					t.Fatalf("%s attempt %d of the %d left: %v", c.name, i+1, c.left, err)
				}
			}
			if _, err := l.Reserve(ctx, c.key); !errors.Is(err, throttle.ErrLimited) {
				t.Fatalf("%s beyond the %d left: %v", c.name, c.left, err)
			}
		}
		var nilRes *throttle.Reservation
		if err := nilRes.Settle(ctx, []throttle.Key{ip}, []throttle.Key{pair}); err != nil {
			t.Fatal(err)
		}
	})
}

// TestPruneBoundsTheTable: a flood of distinct accounts from one address
// writes at most the address's limit of account counters (the address is
// reserved first and stops the rest), and Prune removes every counter
// whose window has ended, rows of earlier releases included, and nothing
// else.
func TestPruneBoundsTheTable(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		l, c := newLimiter(db)
		ipRule := throttle.Rule{Name: "test.ip", Limit: 20, Window: time.Minute}
		acctRule := throttle.Rule{Name: "test.account", Limit: 5, Window: time.Minute}
		flooder := throttle.Address("203.0.113.9")
		for i := range 300 {
			_, _ = l.Reserve(ctx, ipRule.Key(flooder), acctRule.Key(throttle.Account(fmt.Sprintf("u%d@example.test", i))))
		}
		if n := rows(t, db); n != 1+20 {
			t.Fatalf("%d rows after a flood of 300 accounts from one address, want 21", n)
		}
		if _, err := db.SQL.Exec(`INSERT INTO throttles (id, count, window_start) VALUES ('legacy:acct:x', 3, `+
			map[bool]string{true: "$1", false: "?"}[db.Dialect == "postgres"]+`)`, c.now().UTC().Add(-48*time.Hour)); err != nil {
			t.Fatal(err)
		}
		long := throttle.Rule{Name: "test.long", Limit: 5, Window: time.Hour}
		if _, err := l.Reserve(ctx, long.Key(flooder)); err != nil {
			t.Fatal(err)
		}
		c.add(time.Minute + time.Second)
		n, err := l.Prune(ctx)
		if err != nil || n != 22 {
			t.Fatalf("pruned %d (%v), want 22", n, err)
		}
		if n := rows(t, db); n != 1 {
			t.Fatalf("%d rows left, want the running window only", n)
		}
	})
}

// TestSubjectsAreNotStoredInClear: no email, address or prefix appears
// in the table.
func TestSubjectsAreNotStoredInClear(t *testing.T) {
	db := testkit.NewDB(t, "sqlite3")
	l, _ := newLimiter(db)
	rule := throttle.Rule{Name: "test.pii", Limit: 5, Window: time.Minute}
	if _, err := l.Reserve(context.Background(), rule.Key(throttle.Account("alice@example.test"), throttle.Address("2001:db8::1"))); err != nil {
		t.Fatal(err)
	}
	var id, subject string
	if err := db.SQL.QueryRow("SELECT id, subject FROM throttles").Scan(&id, &subject); err != nil {
		t.Fatal(err)
	}
	for _, clear := range []string{"alice", "example", "2001", "db8"} {
		if strings.Contains(id+subject, clear) {
			t.Fatalf("%q stored in clear: %s / %s", clear, id, subject)
		}
	}
	if !strings.HasPrefix(id, subject+":") || !strings.HasPrefix(id, "test.pii:") {
		t.Fatalf("id %s, subject %s", id, subject)
	}
}

// TestCanonicalAddress: what one client is counted as.
func TestCanonicalAddress(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7":                "192.0.2.7",
		"::ffff:192.0.2.7":         "192.0.2.7", // IPv4-mapped
		" 192.0.2.7 ":              "192.0.2.7",
		"2001:db8:1:2:3:4:5:6":     "2001:db8:1:2::/64",
		"2001:DB8:1:2:ffff::1":     "2001:db8:1:2::/64", // same /64, other spelling
		"fe80::1%eth0":             "fe80::/64",         // zone dropped
		"::1":                      "::/64",
		"2001:db8:1:3::1":          "2001:db8:1:3::/64",
		"":                         "invalid",
		"not an address":           "invalid",
		"192.0.2.7:443":            "invalid",
		"١٩٢.٠.٢.٧":                "invalid", // Arabic-Indic digits are not an address
		"2001:db8::1\x00192.0.2.7": "invalid",
	} {
		if got := throttle.CanonicalAddress(in); got != want {
			t.Errorf("CanonicalAddress(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestReserveDuringAnOutage: a database that is gone is
// database.ErrUnavailable (a 503), not an opaque error.
func TestReserveDuringAnOutage(t *testing.T) {
	db, proxy := testkit.NewFaultyPostgres(t, 2)
	l, _ := newLimiter(db)
	rule := throttle.Rule{Name: "test.outage", Limit: 5, Window: time.Minute}
	if _, err := l.Reserve(context.Background(), rule.Key(throttle.Address("192.0.2.1"))); err != nil {
		t.Fatal(err)
	}
	proxy.Cut()
	if _, err := l.Reserve(context.Background(), rule.Key(throttle.Address("192.0.2.1"))); !errors.Is(err, database.ErrUnavailable) {
		t.Fatalf("err = %v, want database.ErrUnavailable", err)
	}
}
