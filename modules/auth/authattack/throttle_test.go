package authattack

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acme/monolith/cmd/app/apptest"
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
		limits := []testkit.Option{
			testkit.WithEnv("AUTH_THROTTLE_ACCOUNT_IP_LIMIT", "3"), testkit.WithEnv("AUTH_THROTTLE_ACCOUNT_LIMIT", "6"),
			testkit.WithEnv("AUTH_THROTTLE_IP_LIMIT", "15"), testkit.WithEnv("AUTH_RECOVERY_ACCOUNT_LIMIT", "3"),
		}
		app := apptest.Start(t, db, limits...)
		victim, bystander := app.NewUser(false), app.NewUser(false)

		for i := range 3 {
			if res, _ := login(t, app, victim.Email, "wrong password "+strconv.Itoa(i)); res.Status != http.StatusBadRequest {
				t.Fatalf("attempt %d: %d", i, res.Status)
			}
		}
		blocked, _ := login(t, app, victim.Email, victim.Password)
		ra, err := strconv.Atoi(blocked.Header.Get("Retry-After"))
		if blocked.Status != http.StatusTooManyRequests || err != nil || ra < 1 || ra > int((15*time.Minute).Seconds()) /* AUTH_THROTTLE_WINDOW's default */ {
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
		replica := apptest.Start(t, db, limits...)
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
			app := apptest.Start(t, db, testkit.WithConfig(func(c *config.Config) {
				if trusted {
					c.Sessions.TrustedProxies = []string{"127.0.0.1"}
				}
			}), testkit.WithEnv("AUTH_THROTTLE_ACCOUNT_IP_LIMIT", "2"), testkit.WithEnv("AUTH_THROTTLE_ACCOUNT_LIMIT", "4"), testkit.WithEnv("AUTH_THROTTLE_IP_LIMIT", "10"))
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

// TestForwardedForChains: behind a trusted proxy that appends to
// X-Forwarded-For, the client is the rightmost entry that is not a trusted
// proxy; entries to its left are whatever the client sent, so forging them
// neither evades the per-IP throttle nor changes the address recorded on
// the session. Read across every header line; garbage ends the walk.
func TestForwardedForChains(t *testing.T) {
	db := testkit.NewDB(t, "sqlite3")
	app := apptest.Start(t, db, testkit.WithConfig(func(c *config.Config) {
		c.Sessions.TrustedProxies = []string{"127.0.0.1", "10.0.0.0/8"}
	}), testkit.WithEnv("AUTH_THROTTLE_ACCOUNT_IP_LIMIT", "1"), testkit.WithEnv("AUTH_THROTTLE_ACCOUNT_LIMIT", "2"), testkit.WithEnv("AUTH_THROTTLE_IP_LIMIT", "10"))
	u := app.NewUser(false)
	suffix := strconv.FormatInt(time.Now().UnixNano(), 36)

	// The attacker (198.51.100.9, appended by the proxy) forges a new
	// leftmost address on every attempt: all attempts count against it.
	for i := range 10 {
		res := app.Do(http.MethodPost, "/api/auth/login",
			form("grant_type", "password", "username", "spray"+strconv.Itoa(i)+suffix+"@example.test", "password", "wrong password"),
			testkit.Header{Key: "X-Forwarded-For", Value: "203.0.113." + strconv.Itoa(i+1) + ", 198.51.100.9"})
		if res.Status != http.StatusBadRequest && res.Status != http.StatusTooManyRequests {
			t.Fatalf("attempt %d: %d %s", i, res.Status, res.Body)
		}
	}
	res := app.Do(http.MethodPost, "/api/auth/login",
		form("grant_type", "password", "username", "fresh"+suffix+"@example.test", "password", "wrong password"),
		testkit.Header{Key: "X-Forwarded-For", Value: "192.0.2.200, 198.51.100.9"})
	if res.Status != http.StatusTooManyRequests {
		t.Fatalf("a forged leftmost entry evaded the IP throttle: %d %s", res.Status, res.Body)
	}

	// The session records the client the chain names.
	for _, c := range []struct {
		name  string
		lines []string
		want  string
	}{
		{"forged, client", []string{"192.0.2.1, 203.0.113.50"}, "203.0.113.50"},
		{"forged, client, inner proxy", []string{"192.0.2.1, 203.0.113.51, 10.1.2.3"}, "203.0.113.51"},
		{"two header lines", []string{"192.0.2.1", "203.0.113.52, 10.1.2.3"}, "203.0.113.52"},
		{"IPv6 client", []string{"2001:db8::52"}, "2001:db8::52"},
		{"IPv4-mapped client", []string{"::ffff:203.0.113.53"}, "203.0.113.53"},
		{"garbage next to the proxy", []string{"203.0.113.54, not-an-ip"}, "127.0.0.1"},
		{"garbage behind an inner proxy", []string{"203.0.113.55, not-an-ip, 10.1.2.3"}, "10.1.2.3"},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, app.URL+"/api/auth/login",
				strings.NewReader(form("grant_type", "password", "username", u.Email, "password", u.Password).Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for _, l := range c.lines {
				req.Header.Add("X-Forwarded-For", l)
			}
			res, err := app.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var tok tokenResponse
			err = json.NewDecoder(res.Body).Decode(&tok)
			_ = res.Body.Close()
			if err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("login: %d %v", res.StatusCode, err)
			}
			var list struct {
				Items []struct {
					Current bool   `json:"current"`
					IP      string `json:"ip"`
				} `json:"items"`
			}
			app.Do(http.MethodGet, "/api/auth/sessions", nil, testkit.Bearer(tok.AccessToken)).Expect(http.StatusOK).JSON(t, &list)
			for _, s := range list.Items {
				if s.Current && s.IP != c.want {
					t.Fatalf("X-Forwarded-For %q: session IP %q, want %q", c.lines, s.IP, c.want)
				}
			}
		})
	}
}

// TestTrailersDoNotNameTheClient: fields in a chunked body's trailer are not
// headers a proxy vouched for (fasthttp merges most of them into the
// request); a client must not set its own address that way, whatever
// PROXY_HEADER is.
func TestTrailersDoNotNameTheClient(t *testing.T) {
	db := testkit.NewDB(t, "sqlite3")
	app := apptest.Start(t, db, testkit.WithConfig(func(c *config.Config) {
		c.Sessions.TrustedProxies = []string{"127.0.0.1"}
		c.Sessions.ProxyHeader = "X-Client-IP"
	}))
	u := app.NewUser(false)
	body := form("grant_type", "password", "username", u.Email, "password", u.Password).Encode()
	conn, err := net.Dial("tcp", strings.TrimPrefix(app.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
		"X-Client-IP: 198.51.100.20\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n%x\r\n%s\r\n0\r\nX-Client-IP: 203.0.113.99\r\n\r\n", len(body), body)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	var tok tokenResponse
	err = json.NewDecoder(res.Body).Decode(&tok)
	_ = res.Body.Close()
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("login: %d %v", res.StatusCode, err)
	}
	var list struct {
		Items []struct {
			Current bool   `json:"current"`
			IP      string `json:"ip"`
		} `json:"items"`
	}
	app.Do(http.MethodGet, "/api/auth/sessions", nil, testkit.Bearer(tok.AccessToken)).Expect(http.StatusOK).JSON(t, &list)
	for _, s := range list.Items {
		if s.Current && s.IP != "198.51.100.20" {
			t.Fatalf("session IP %q, want the header's 198.51.100.20, not the trailer's", s.IP)
		}
	}
}
