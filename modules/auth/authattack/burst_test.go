package authattack

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/password"
	"github.com/acme/monolith/platform/testkit"
)

// reply is one response of a burst (or the error that replaced it).
type reply struct {
	status int
	header http.Header
	body   string
	err    error
}

// burst sends n requests at once: every goroutine is created and waiting
// before a start barrier releases them together. req builds the i-th.
func burst(app *apptest.App, n int, req func(i int) *http.Request) []reply {
	out := make([]reply, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		r := req(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := app.HTTP.Do(r)
			if err != nil {
				out[i] = reply{err: err}
				return
			}
			defer res.Body.Close()
			b, err := io.ReadAll(res.Body)
			out[i] = reply{status: res.StatusCode, header: res.Header, body: string(b), err: err}
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// tally counts replies by status; errors fail the test.
func tally(t *testing.T, rs []reply) map[int]int {
	t.Helper()
	n := map[int]int{}
	for _, r := range rs {
		if r.err != nil {
			t.Fatalf("request failed: %v", r.err)
		}
		n[r.status]++
	}
	return n
}

func loginRequest(app *apptest.App, email, pw string, headers ...testkit.Header) *http.Request {
	body := url.Values{"grant_type": {"password"}, "username": {email}, "password": {pw}}.Encode()
	r, _ := http.NewRequest(http.MethodPost, app.URL+"/api/auth/login", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, h := range headers {
		r.Header.Set(h.Key, h.Value)
	}
	return r
}

// TestLoginBurstGetsTheLimit: ASVS 5.0 V6.3.1. 150 simultaneous wrong
// passwords for one account from one address: the attempt is reserved
// before the password is checked, so exactly the limit (5) of them are
// checked (counted by the hasher) and the rest get 429; then even the
// right password from that address is refused, while from another address
// the owner signs in. A check-then-count limiter checked about 149 here.
func TestLoginBurstGetsTheLimit(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		var hasher *password.Hasher
		app := apptest.Start(t, db, testkit.WithConfig(func(c *config.Config) {
			c.Sessions.TrustedProxies = []string{"127.0.0.1"}
			// The hasher's queue is not what this test is about.
			c.Password.Queue, c.Password.QueueTimeout = 1000, time.Minute
		}), testkit.WithEnv("AUTH_THROTTLE_ACCOUNT_IP_LIMIT", "5"), testkit.WithEnv("AUTH_THROTTLE_ACCOUNT_LIMIT", "50"), testkit.WithEnv("AUTH_THROTTLE_IP_LIMIT", "1000"), testkit.WithFx(fx.Populate(&hasher)))
		victim := app.NewUser(false)
		attacker := testkit.Header{Key: "X-Forwarded-For", Value: "203.0.113.10"}

		before := hasher.Stats().Computed
		const n = 150
		got := tally(t, burst(app, n, func(i int) *http.Request {
			return loginRequest(app, victim.Email, "wrong password "+strconv.Itoa(i), attacker)
		}))
		checked := hasher.Stats().Computed - before
		t.Logf("burst of %d: %v; %d password checks", n, got, checked)
		if checked != 5 || got[http.StatusBadRequest] != 5 || got[http.StatusTooManyRequests] != n-5 {
			t.Fatalf("burst of %d wrong passwords: %v, %d checks; want exactly 5 checked (400) and %d refused (429)", n, got, checked, n-5)
		}
		if res := app.Do(http.MethodPost, "/api/auth/login", form("grant_type", "password", "username", victim.Email, "password", victim.Password), attacker); res.Status != http.StatusTooManyRequests {
			t.Fatalf("the right password from the attacking address after the burst: %d", res.Status)
		}
		owner := testkit.Header{Key: "X-Forwarded-For", Value: "198.51.100.20"}
		if res := app.Do(http.MethodPost, "/api/auth/login", form("grant_type", "password", "username", victim.Email, "password", victim.Password), owner); res.Status != http.StatusOK {
			t.Fatalf("the owner from another address: %d %s", res.Status, res.Body)
		}
	})
}

// TestFloodOfDistinctAccountsIsBounded: one address sending logins and
// recovery requests for hundreds of distinct emails writes a bounded
// number of counters: its address counter trips first and the accounts
// behind it are never written.
func TestFloodOfDistinctAccountsIsBounded(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db, testkit.WithEnv("AUTH_THROTTLE_ACCOUNT_IP_LIMIT", "2"), testkit.WithEnv("AUTH_THROTTLE_ACCOUNT_LIMIT", "4"), testkit.WithEnv("AUTH_THROTTLE_IP_LIMIT", "20"))
		rows := func() int {
			var n int
			if err := db.SQL.QueryRow("SELECT count(*) FROM throttles").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		before := rows()
		for i := range 200 {
			email := fmt.Sprintf("flood-%d@example.test", i)
			app.Do(http.MethodPost, "/api/auth/password-recovery", map[string]string{"email": email})
			app.Do(http.MethodPost, "/api/auth/login", form("grant_type", "password", "username", email, "password", "wrong password"))
		}
		// Recovery: the address and 20 accounts; login: the address, 20
		// accounts and 20 (account, address) pairs.
		if n := rows() - before; n > 2+3*20 {
			t.Fatalf("400 requests for 200 emails from one address wrote %d counters, want at most %d", n, 2+3*20)
		}
	})
}
