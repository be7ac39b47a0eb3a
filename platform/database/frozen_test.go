package database_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/testkit"
)

// frozenQueryTimeout is the DB_QUERY_TIMEOUT of the frozen-database tests:
// small, so that the test is quick, and the only bound in play (connect
// timeouts are set far beyond the client's patience).
const frozenQueryTimeout = 300 * time.Millisecond

// answer is one HTTP exchange made outside the test goroutine.
type answer struct {
	status int
	code   string
	err    error
}

func (a answer) String() string {
	if a.err != nil {
		return "no answer: " + a.err.Error()
	}
	return fmt.Sprintf("%d %s", a.status, a.code)
}

func call(client *http.Client, method, url, token, body string) answer {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return answer{err: err}
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var p struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(b, &p)
	return answer{status: res.StatusCode, code: p.Code}
}

// TestFrozenDatabase: when Postgres stops answering without closing
// anything (a frozen process, a partition, a stuck failover), reads and
// writes answer 503 database_unavailable within DB_QUERY_TIMEOUT instead of
// hanging for the outage, also for a burst larger than the pool;
// readiness fails, liveness does not; and when the database answers again
// the same process serves again.
func TestFrozenDatabase(t *testing.T) {
	const pool = 4
	db, px := testkit.NewFaultyPostgres(t, pool, func(c *config.Database) {
		c.QueryTimeout = frozenQueryTimeout
		// Without the query deadline nothing else would end a call
		// before the client gives up.
		c.URL += "&connect_timeout=600"
	})
	app := apptest.Start(t, db)
	token := app.SuperuserToken()
	base := app.URL
	rename := func(name string) string { return `{"full_name":"` + name + `"}` }

	// Control: reads and writes work through the proxy.
	for _, a := range []answer{
		call(app.HTTP, http.MethodGet, base+"/api/users/me", token, ""),
		call(app.HTTP, http.MethodPatch, base+"/api/users/me", token, rename("before")),
		call(app.HTTP, http.MethodGet, base+"/readyz", "", ""),
	} {
		if a.err != nil || a.status != http.StatusOK {
			t.Fatalf("before the freeze: %v", a)
		}
	}

	px.Freeze()
	// Generous: an answer must come, whatever the machine's load; it is
	// the query deadline that produces it (nothing else is shorter).
	app.HTTP.Timeout = 2 * time.Minute
	for _, r := range []struct{ method, path, body string }{
		{http.MethodGet, "/api/users/me", ""},
		{http.MethodPatch, "/api/users/me", rename("during")},
		{http.MethodGet, "/api/users", ""},
		{http.MethodGet, "/api/auth/sessions", ""},
	} {
		a := call(app.HTTP, r.method, base+r.path, token, r.body)
		if a.err != nil || a.status != http.StatusServiceUnavailable || a.code != "database_unavailable" {
			t.Fatalf("%s %s while frozen: %v, want 503 database_unavailable", r.method, r.path, a)
		}
	}
	if a := call(app.HTTP, http.MethodGet, base+"/readyz", "", ""); a.err != nil || a.status != http.StatusServiceUnavailable {
		t.Fatalf("readyz while frozen: %v", a)
	}
	if a := call(app.HTTP, http.MethodGet, base+"/livez", "", ""); a.err != nil || a.status != http.StatusOK {
		t.Fatalf("livez while frozen: %v (liveness must not depend on the database)", a)
	}

	// A burst, released at once, three times the pool: every request
	// waits for a connection or for the server, and each gets its 503.
	const burst = 3 * pool
	answers := make([]answer, burst)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if i%2 == 0 {
				answers[i] = call(app.HTTP, http.MethodGet, base+"/api/users/me", token, "")
			} else {
				answers[i] = call(app.HTTP, http.MethodPatch, base+"/api/users/me", token, rename("burst"))
			}
		}()
	}
	close(start)
	wg.Wait()
	for i, a := range answers {
		if a.err != nil || a.status != http.StatusServiceUnavailable || a.code != "database_unavailable" {
			t.Errorf("burst request %d while frozen: %v, want 503 database_unavailable", i, a)
		}
	}

	px.Restore()
	app.HTTP.Timeout = 30 * time.Second
	deadline := time.Now().Add(30 * time.Second)
	for {
		a := call(app.HTTP, http.MethodGet, base+"/readyz", "", "")
		if a.err == nil && a.status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz did not recover: %v", a)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if a := call(app.HTTP, http.MethodPatch, base+"/api/users/me", token, rename("after")); a.err != nil || a.status != http.StatusOK {
		t.Fatalf("write after the freeze: %v", a)
	}
	var me struct {
		FullName string `json:"full_name"`
	}
	app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(token)).Expect(http.StatusOK).JSON(t, &me)
	if me.FullName != "after" {
		t.Fatalf("full_name after the freeze = %q", me.FullName)
	}
}
