package authattack

import (
	"bytes"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// TestThrottling: ASVS 5.0 V6.3 (anti-automation) and RFC 6585 §4 (429 with
// Retry-After). Counters live in the database, so a second application on
// the same database (another replica) sees the same block. (The account
// from one address is the tight counter; TestOwnerSignsInDuringLockout
// covers the account from other addresses.)
func TestThrottling(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		limits := func(c *config.Config) {
			c.Sessions.ThrottleAccountIP, c.Sessions.ThrottleAccount, c.Sessions.ThrottleIP = 3, 6, 15
			c.Sessions.RecoveryAccount = 3
		}
		app := testkit.Start(t, db, testkit.WithConfig(limits))
		victim, bystander := app.NewUser(false), app.NewUser(false)

		for i := range 3 {
			if res, _ := login(t, app, victim.Email, "wrong password "+strconv.Itoa(i)); res.Status != http.StatusBadRequest {
				t.Fatalf("attempt %d: %d", i, res.Status)
			}
		}
		blocked, _ := login(t, app, victim.Email, victim.Password)
		ra, err := strconv.Atoi(blocked.Header.Get("Retry-After"))
		if blocked.Status != http.StatusTooManyRequests || err != nil || ra < 1 || ra > int(app.Config.Sessions.ThrottleWindow.Seconds()) {
			t.Fatalf("after 3 failures, even the right password: %d Retry-After=%q %s", blocked.Status, blocked.Header.Get("Retry-After"), blocked.Body)
		}
		// Same body for an unknown account that is blocked: a 429 says
		// nothing about whether the account exists.
		for i := range 3 {
			login(t, app, "ghost@example.test", "wrong password "+strconv.Itoa(i))
		}
		ghost, _ := login(t, app, "ghost@example.test", "wrong password")
		if ghost.Status != http.StatusTooManyRequests || !bytes.Equal(ghost.Body, blocked.Body) {
			t.Fatalf("blocked unknown account differs: %d %s vs %s", ghost.Status, ghost.Body, blocked.Body)
		}
		// Control: another account from the same address is unaffected.
		if res, _ := login(t, app, bystander.Email, bystander.Password); res.Status != http.StatusOK {
			t.Fatalf("bystander blocked: %d %s", res.Status, res.Body)
		}
		// Another replica on the same database sees the block.
		replica := testkit.Start(t, db, testkit.WithConfig(limits))
		if res, _ := login(t, replica, victim.Email, victim.Password); res.Status != http.StatusTooManyRequests {
			t.Fatalf("replica did not see the block: %d", res.Status)
		}

		// Password recovery: every request counts (each may send an email);
		// the 429 is problem JSON with Retry-After, the same for any email.
		var last *testkit.Response
		for range 4 {
			last = app.Do(http.MethodPost, "/api/auth/password-recovery", map[string]string{"email": bystander.Email})
		}
		if last.Status != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" || last.Problem(t).Code != "too_many_requests" {
			t.Fatalf("recovery flood: %d %v %s", last.Status, last.Header, last.Body)
		}

		// Refresh and reset failures are counted per IP (their tokens name
		// no account before they are valid): the 16th bad one is a 429.
		for _, ep := range []struct {
			path string
			body any
		}{
			{"/api/auth/login", form("grant_type", "refresh_token", "refresh_token", strings.Repeat("r", 43))},
			{"/api/auth/reset-password", map[string]string{"token": strings.Repeat("t", 43), "new_password": "a fine passphrase"}},
		} {
			var res *testkit.Response
			for range 16 {
				res = app.Do(http.MethodPost, ep.path, ep.body)
			}
			if res.Status != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
				t.Fatalf("%s after 16 failures: %d %s", ep.path, res.Status, res.Body)
			}
		}

		// Per IP: spread failures over many accounts until the IP limit
		// (15, five times the account-and-address limit) trips; then every account
		// from that address waits, while the account limit never did.
		statuses := []int{}
		for i := range 12 {
			res, _ := login(t, replica, "spray"+strconv.Itoa(i)+"@example.test", "wrong password")
			statuses = append(statuses, res.Status)
		}
		if !slices.Contains(statuses, http.StatusTooManyRequests) {
			t.Fatalf("no IP block after spraying: %v", statuses)
		}
		if res, _ := login(t, replica, bystander.Email, bystander.Password); res.Status != http.StatusTooManyRequests {
			t.Fatalf("IP block not applied to other accounts: %d", res.Status)
		}
	})
}

// TestTrustedProxy: the client IP comes from the connection unless the peer
// is a configured proxy (ASVS 5.0 V6.3 anti-automation must not be bypassed
// with a forged X-Forwarded-For).
func TestTrustedProxy(t *testing.T) {
	db := testkit.NewDB(t, "sqlite3")
	for _, trusted := range []bool{false, true} {
		t.Run("trusted="+strconv.FormatBool(trusted), func(t *testing.T) {
			app := testkit.Start(t, db, testkit.WithConfig(func(c *config.Config) {
				c.Sessions.ThrottleAccountIP, c.Sessions.ThrottleAccount, c.Sessions.ThrottleIP = 2, 4, 10
				if trusted {
					c.Sessions.TrustedProxies = []string{"127.0.0.1"}
				}
			}))
			suffix := strconv.FormatInt(time.Now().UnixNano(), 36)
			// Exhaust the IP limit from one forwarded address.
			for i := range 10 {
				req := form("grant_type", "password", "username", "x"+strconv.Itoa(i)+suffix+"@example.test", "password", "wrong password")
				app.Do(http.MethodPost, "/api/auth/login", req, testkit.Header{Key: "X-Forwarded-For", Value: "203.0.113.7"})
			}
			// A different forwarded address: a new client only if trusted.
			res := app.Do(http.MethodPost, "/api/auth/login",
				form("grant_type", "password", "username", "fresh"+suffix+"@example.test", "password", "wrong password"),
				testkit.Header{Key: "X-Forwarded-For", Value: "198.51.100.9"})
			want := http.StatusTooManyRequests
			if trusted {
				want = http.StatusBadRequest
			}
			if res.Status != want {
				t.Fatalf("trusted=%v: %d, want %d (%s)", trusted, res.Status, want, res.Body)
			}
		})
	}
}
