package userapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

type reply struct {
	status int
	body   []byte
	err    error
}

// send is safe from any goroutine (testkit's Do fails the test, which only
// the test goroutine may do).
func send(app *apptest.App, method, path, token string, v any) reply {
	b, _ := json.Marshal(v)
	req, err := http.NewRequest(method, app.URL+path, bytes.NewReader(b))
	if err != nil {
		return reply{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := app.HTTP.Do(req)
	if err != nil {
		return reply{err: err}
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return reply{res.StatusCode, body, err}
}

// concurrently runs n calls at once (released together) and counts statuses.
func concurrently(t *testing.T, n int, call func(i int) reply) (map[int]int, []reply) {
	t.Helper()
	replies := make([]reply, n)
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-gate
			replies[i] = call(i)
		})
	}
	close(gate)
	wg.Wait()
	counts := map[int]int{}
	for _, r := range replies {
		if r.err != nil {
			t.Fatalf("request failed: %v", r.err)
		}
		counts[r.status]++
	}
	return counts, replies
}

// TestConcurrentRegistrationOfOneEmail: of 100 simultaneous sign-ups with
// one address (in varying case), exactly one wins; the others get 409
// email_taken, never a 500 from the unique index race.
func TestConcurrentRegistrationOfOneEmail(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		// The race is what is tested: the address's registration limit and
		// the hasher's queue (both of which refuse most of such a burst)
		// are lifted.
		app := apptest.Start(t, db, testkit.WithConfig(func(c *config.Config) {
			c.Password.Queue, c.Password.QueueTimeout = 1000, time.Minute
		}), testkit.WithEnv("REGISTER_THROTTLE_IP_LIMIT", "1000"))
		emails := []string{"race@example.test", "RACE@example.test", "Race@Example.Test"}
		counts, replies := concurrently(t, 100, func(i int) reply {
			return send(app, http.MethodPost, "/api/auth/register", "", map[string]string{
				"email": emails[i%len(emails)], "password": fmt.Sprintf("passphrase %03d", i),
			})
		})
		if counts[http.StatusCreated] != 1 || counts[http.StatusConflict] != 99 || len(counts) != 2 {
			t.Fatalf("statuses = %v, want one 201 and 99 409", counts)
		}
		for _, r := range replies {
			if r.status == http.StatusConflict && !bytes.Contains(r.body, []byte(`"email_taken"`)) {
				t.Fatalf("409 without email_taken: %s", r.body)
			}
		}
		// Control: the winner's account exists once and signs in.
		res := app.Do(http.MethodGet, "/api/users?limit=100&total=true", nil, testkit.Bearer(app.SuperuserToken()))
		var page struct{ Total int }
		res.JSON(t, &page)
		if page.Total != 2 { // the superuser and the winner
			t.Fatalf("total users = %d, want 2", page.Total)
		}
	})
}

// TestConcurrentPatchesStayConsistent: simultaneous PATCHes of different
// fields of one account lose neither change, every reply shows the value
// its request wrote, and a race for one new email has one winner.
func TestConcurrentPatchesStayConsistent(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		u := app.NewUser(false)
		root := app.SuperuserToken()

		const n = 40
		names, emails := make([]string, 0, n), make([]string, 0, n)
		counts, replies := concurrently(t, n, func(i int) reply {
			if i%2 == 0 { // the user renames themselves ...
				return send(app, http.MethodPatch, "/api/users/me", u.Token, map[string]string{"full_name": fmt.Sprintf("name %02d", i)})
			}
			// ... while a superuser changes their email.
			return send(app, http.MethodPatch, "/api/users/"+u.ID.String(), root, map[string]string{"email": fmt.Sprintf("mail%02d@example.test", i)})
		})
		if counts[http.StatusOK] != n {
			t.Fatalf("statuses = %v, want %d 200", counts, n)
		}
		for i, r := range replies {
			var got user
			if err := json.Unmarshal(r.body, &got); err != nil {
				t.Fatal(err)
			}
			if i%2 == 0 {
				names = append(names, fmt.Sprintf("name %02d", i))
				if got.FullName != names[len(names)-1] {
					t.Fatalf("reply %d shows full_name %q, not what it wrote", i, got.FullName)
				}
			} else {
				emails = append(emails, fmt.Sprintf("mail%02d@example.test", i))
				if got.Email != emails[len(emails)-1] {
					t.Fatalf("reply %d shows email %q, not what it wrote", i, got.Email)
				}
			}
		}
		var final user
		app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(u.Token)).JSON(t, &final)
		if !slices.Contains(names, final.FullName) || !slices.Contains(emails, final.Email) {
			t.Fatalf("final %q / %q is not one of the written values (lost update)", final.FullName, final.Email)
		}

		// Ten users race for one address: one 200, nine 409.
		others := make([]apptest.User, 10)
		for i := range others {
			others[i] = app.NewUser(false)
		}
		counts, _ = concurrently(t, len(others), func(i int) reply {
			return send(app, http.MethodPatch, "/api/users/me", others[i].Token, map[string]string{"email": "wanted@example.test", "current_password": others[i].Password})
		})
		if counts[http.StatusOK] != 1 || counts[http.StatusConflict] != 9 {
			t.Fatalf("email race statuses = %v, want one 200 and nine 409", counts)
		}
	})
}
