package userapi_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// TestRegistrationIsThrottledPerAddress: registration answers email_taken,
// so it is an account oracle; every request counts against the client
// address (successful or taken; a body that fails validation is refused
// before, and reveals nothing), and past the limit the answer is
// 429 with Retry-After and the same body whatever the email. Another
// address is not affected, and an IPv6 client cannot escape by moving
// inside its /64.
func TestRegistrationIsThrottledPerAddress(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db, testkit.WithConfig(func(c *config.Config) {
			c.Sessions.TrustedProxies = []string{"127.0.0.1"}
		}), testkit.WithEnv("REGISTER_THROTTLE_IP_LIMIT", "3"))
		taken := app.NewUser(false)
		from := func(ip string) testkit.Header { return testkit.Header{Key: "X-Forwarded-For", Value: ip} }
		register := func(ip, email string) *testkit.Response {
			t.Helper()
			return app.Do(http.MethodPost, "/api/auth/register", map[string]string{"email": email, "password": "a fine passphrase"}, from(ip))
		}
		const prober = "2001:db8:7:7::1"
		for i, want := range []int{http.StatusCreated, http.StatusConflict, http.StatusCreated} {
			email := []string{"new@example.test", taken.Email, "Новый@example.test"}[i]
			if res := register(prober, email); res.Status != want {
				t.Fatalf("request %d: %d %s, want %d", i, res.Status, res.Body, want)
			}
		}
		var bodies []string
		for i, email := range []string{taken.Email, "never-registered@example.test"} {
			res := register(fmt.Sprintf("2001:db8:7:7::%x", 100+i), email) // same /64, other host
			ra, err := strconv.Atoi(res.Header.Get("Retry-After"))
			if res.Status != http.StatusTooManyRequests || err != nil || ra < 1 || ra > int(time.Hour.Seconds()) /* REGISTER_THROTTLE_WINDOW's default */ {
				t.Fatalf("past the limit (%s): %d Retry-After=%q %s", email, res.Status, res.Header.Get("Retry-After"), res.Body)
			}
			if p := res.Problem(t); p.Code != "too_many_requests" {
				t.Fatalf("code %q", p.Code)
			}
			bodies = append(bodies, res.Problem(t).Detail)
		}
		if bodies[0] != bodies[1] {
			t.Fatalf("429 bodies differ by email: %q / %q", bodies[0], bodies[1])
		}
		// Control: another address (another /64) registers.
		if res := register("2001:db8:7:8::1", "other@example.test"); res.Status != http.StatusCreated {
			t.Fatalf("another address: %d %s", res.Status, res.Body)
		}
	})
}
