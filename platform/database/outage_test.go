package database_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// TestDatabaseOutage: with the database cut off, readiness fails within
// seconds, API calls answer 503 problem JSON instead of hanging or 500, the
// process stays alive, and it recovers by itself when the database returns.
func TestDatabaseOutage(t *testing.T) {
	db, px := testkit.NewFaultyPostgres(t, 5)
	app := apptest.Start(t, db)
	token := app.SuperuserToken()

	// Control: all is well through the proxy.
	if res := app.Do(http.MethodGet, "/readyz", nil); res.Status != http.StatusOK {
		t.Fatalf("readyz before the outage: %d %s", res.Status, res.Body)
	}
	if res := app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(token)); res.Status != http.StatusOK {
		t.Fatalf("me before the outage: %d %s", res.Status, res.Body)
	}

	px.Cut()
	// Each call must answer, not hang: the client gives up after 10 s.
	app.HTTP.Timeout = 10 * time.Second
	for i := range 3 { // several, so that every pooled connection meets the cut
		res := app.Do(http.MethodGet, "/readyz", nil)
		if res.Status != http.StatusServiceUnavailable {
			t.Fatalf("readyz during the outage (%d): %d %s", i, res.Status, res.Body)
		}
		for _, path := range []string{"/api/users/me", "/api/users"} {
			res = app.Do(http.MethodGet, path, nil, testkit.Bearer(token))
			if res.Status != http.StatusServiceUnavailable {
				t.Fatalf("%s during the outage: %d %s", path, res.Status, res.Body)
			}
			if p := res.Problem(t); p.Code != "database_unavailable" {
				t.Fatalf("%s during the outage: code %q", path, p.Code)
			}
		}
	}
	if res := app.Do(http.MethodGet, "/livez", nil); res.Status != http.StatusOK {
		t.Fatalf("livez during the outage: %d (liveness must not depend on the database)", res.Status)
	}

	px.Restore()
	deadline := time.Now().Add(15 * time.Second)
	for {
		res := app.Do(http.MethodGet, "/readyz", nil)
		if res.Status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz did not recover: %d %s", res.Status, res.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if res := app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(token)); res.Status != http.StatusOK {
		t.Fatalf("me after recovery: %d %s", res.Status, res.Body)
	}
}

func TestIsConnectionError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{io.ErrUnexpectedEOF, true},
		{context.Canceled, false},
		{errors.New("duplicate key value violates unique constraint"), false},
		{nil, false},
	} {
		if got := database.IsConnectionError(tc.err); got != tc.want {
			t.Errorf("IsConnectionError(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
