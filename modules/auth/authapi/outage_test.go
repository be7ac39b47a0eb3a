package authapi_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/testkit"
)

// TestTokenEndpointDuringOutage: with the database cut off, the token
// endpoint answers RFC 6749 §5.2's temporarily_unavailable with 503 and
// Retry-After, for both grants, like every other route's 503, instead of
// a 500 server_error that tells a client nothing about coming back.
func TestTokenEndpointDuringOutage(t *testing.T) {
	db, px := testkit.NewFaultyPostgres(t, 5)
	app := apptest.Start(t, db)
	u := app.NewUser(false)
	var tok tokens
	app.Do(http.MethodPost, "/api/auth/login", url.Values{"grant_type": {"password"}, "username": {u.Email}, "password": {u.Password}}).
		Expect(http.StatusOK).JSON(t, &tok)

	px.Cut()
	app.HTTP.Timeout = 10 * time.Second // answers, never hangs
	for i := range 3 {                  // several, so every pooled connection meets the cut
		for name, form := range map[string]url.Values{
			"password":      {"grant_type": {"password"}, "username": {u.Email}, "password": {u.Password}},
			"refresh_token": refreshForm(tok.RefreshToken),
		} {
			res := app.Do(http.MethodPost, "/api/auth/login", form)
			var body tokens
			res.JSON(t, &body)
			ra, err := strconv.Atoi(res.Header.Get("Retry-After"))
			if res.Status != http.StatusServiceUnavailable || body.Error != "temporarily_unavailable" || err != nil || ra < 1 {
				t.Fatalf("%s grant during the outage (%d): %d Retry-After=%q %s", name, i, res.Status, res.Header.Get("Retry-After"), res.Body)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/json" || res.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("%s grant: Content-Type %q, Cache-Control %q", name, ct, res.Header.Get("Cache-Control"))
			}
		}
		// The problem JSON routes say when to come back too.
		res := app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(u.Token))
		if res.Status != http.StatusServiceUnavailable || res.Problem(t).Code != "database_unavailable" || res.Header.Get("Retry-After") == "" {
			t.Fatalf("problem route during the outage: %d %v %s", res.Status, res.Header, res.Body)
		}
	}

	px.Restore()
	for i := 0; ; i++ { // the pool reconnects by itself
		res := app.Do(http.MethodPost, "/api/auth/login", url.Values{"grant_type": {"password"}, "username": {u.Email}, "password": {u.Password}})
		if res.Status == http.StatusOK {
			break
		}
		if i == 50 {
			t.Fatalf("no recovery after the outage: %d %s", res.Status, res.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
