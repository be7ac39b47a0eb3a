package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/acme/monolith/bench/load"
	"github.com/acme/monolith/bench/report"
)

// probe is one request to the watching replica.
type probe struct {
	sent, answered time.Time
	status         int
}

// judge counts, of the probes sent after the changing replica answered
// at `changed`, those that still showed the old state (stale) and those
// that showed neither state (unexpected), and the lag from `changed` to
// the first answer showing the new state (negative when it came first:
// the change commits before its response is written).
func judge(ps []probe, changed time.Time, old, want int) (r report.ReplicaRound, seen bool) {
	first := time.Time{}
	for _, p := range ps {
		if p.status == want && (first.IsZero() || p.answered.Before(first)) {
			first = p.answered
		}
		if !p.sent.After(changed) {
			continue // in flight during the change: either answer is right
		}
		r.After++
		switch p.status {
		case want:
		case old:
			r.Stale++
		default:
			r.Errors++
		}
	}
	if !first.IsZero() {
		r.LagMS = ms(first.Sub(changed))
	}
	return r, !first.IsZero()
}

// poll sends probes until stop is closed, from `workers` connections.
func poll(ctx context.Context, url, token string, workers int, stop <-chan struct{}) []probe {
	c := load.NewClient(workers)
	var mu sync.Mutex
	var all []probe
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			var mine []probe
			for {
				select {
				case <-stop:
					mu.Lock()
					all = append(all, mine...)
					mu.Unlock()
					return
				default:
				}
				p := probe{sent: time.Now()}
				_, err := send(ctx, c, http.MethodGet, url, nil, "", token, http.StatusOK)
				p.answered = time.Now()
				var se *load.StatusError
				switch {
				case err == nil:
					p.status = http.StatusOK
				case errors.As(err, &se):
					p.status = se.Status
				default:
					p.status = -1
				}
				mine = append(mine, p)
			}
		})
	}
	wg.Wait()
	return all
}

// replicas starts a second application process on the same database and
// makes authorization changes through the first while polling the second
// with the affected account: docs/security.md promises that a change
// applies to the very next request on every replica, because each
// request checks the cached account's versions in the database, so no
// answer to a request sent after the change's response may show the
// state before it. Rounds alternate giving and taking a role that grants
// roles:read (probe GET /api/permissions: 200 or 403); the last
// deactivates the account (401). Then B's read rate with A editing a role
// and without.
func (h *harness) replicas(ctx context.Context, db, dbURL string, a *server, rootEmail, rootPassword string, rounds int, accts []account, opts load.Options) (*report.Replicas, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	log.Printf("%s: starting a second replica", db)
	b, _, err := start(h.app, []string{"serve"}, h.appEnv(addr, dbURL), addr, filepath.Join(h.tmp, db+"-replica.log"))
	if err != nil {
		return nil, err
	}
	defer b.stop()

	c := load.NewClient(2)
	root, err := login(ctx, c, a.url, rootEmail, rootPassword)
	if err != nil {
		return nil, err
	}
	post := func(path string, v any, want int) (string, error) {
		body, _ := json.Marshal(v)
		out, err := send(ctx, c, http.MethodPost, a.url+path, body, "application/json", root.AccessToken, want)
		if err != nil {
			return "", fmt.Errorf("POST %s: %w", path, err)
		}
		var x struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(out, &x)
		return x.ID, nil
	}
	roleID, err := post("/api/roles", map[string]any{"name": "bench-probe", "permissions": []string{"roles:read"}}, http.StatusCreated)
	if err != nil {
		return nil, err
	}
	email, password := "bench-replica@example.test", "bench replica passphrase "+randomHex()
	userID, err := post("/api/users", map[string]any{"email": email, "password": password, "full_name": "Bench Replica"}, http.StatusCreated)
	if err != nil {
		return nil, err
	}
	victim, err := login(ctx, c, a.url, email, password)
	if err != nil {
		return nil, err
	}
	probeURL := b.url + "/api/permissions"
	// Both replicas resolve the account once, so both caches hold it.
	for _, s := range []*server{a, b} {
		if _, err := send(ctx, c, http.MethodGet, s.url+"/api/permissions", nil, "", victim.AccessToken, http.StatusForbidden); err != nil {
			return nil, fmt.Errorf("warm %s: %w", s.url, err)
		}
	}

	membership := a.url + "/api/users/" + userID + "/roles/" + roleID
	out := &report.Replicas{}
	state := http.StatusForbidden
	for i := range max(rounds, 1) {
		var change string
		var do func() error
		want := http.StatusOK
		switch {
		case i == max(rounds, 1)-1:
			change, want = "deactivate the account", http.StatusUnauthorized
			do = func() error {
				body := []byte(`{"is_active":false}`)
				_, err := send(ctx, c, http.MethodPatch, a.url+"/api/users/"+userID, body, "application/json", root.AccessToken, http.StatusOK)
				return err
			}
		case state == http.StatusForbidden:
			change = "give a role with roles:read"
			do = func() error {
				_, err := send(ctx, c, http.MethodPut, membership, nil, "", root.AccessToken, http.StatusOK)
				return err
			}
		default:
			change, want = "take the role", http.StatusForbidden
			do = func() error {
				_, err := send(ctx, c, http.MethodDelete, membership, nil, "", root.AccessToken, http.StatusOK)
				return err
			}
		}
		r, err := replicaRound(ctx, probeURL, victim.AccessToken, do, state, want)
		if err != nil {
			return out, fmt.Errorf("%s: %w", change, err)
		}
		r.Change = change
		out.Rounds = append(out.Rounds, r)
		out.After += r.After
		out.Stale += r.Stale
		out.Errors += r.Errors
		state = want
	}
	if len(accts) > 0 {
		if err := h.readUnderEdits(ctx, db, a, b, root.AccessToken, roleID, accts, opts, out); err != nil {
			return out, err
		}
	}
	return out, nil
}

// readUnderEdits measures B's read alone and while A edits a role's
// permissions back and forth, one edit after another: the cost on every
// replica of the counter a role edit advances (docs/security.md).
func (h *harness) readUnderEdits(ctx context.Context, db string, a, b *server, rootToken, roleID string, accts []account, opts load.Options, out *report.Replicas) error {
	out.ReadAlone = h.measure(ctx, db, "replica B: GET /api/users/me", b, opts, getMe(b.url, accts))
	stop := make(chan struct{})
	edits := make(chan int, 1)
	errs := make(chan error, 1)
	began := time.Now()
	go func() {
		c := load.NewClient(1)
		sets := [][]byte{[]byte(`{"permissions":["roles:read","users:read"]}`), []byte(`{"permissions":["roles:read"]}`)}
		n := 0
		defer func() { edits <- n }()
		for {
			select {
			case <-stop:
				errs <- nil
				return
			default:
			}
			if _, err := send(ctx, c, http.MethodPut, a.url+"/api/roles/"+roleID+"/permissions", sets[n%2], "application/json", rootToken, http.StatusOK); err != nil {
				errs <- fmt.Errorf("role edit on A: %w", err)
				return
			}
			n++
		}
	}()
	out.ReadUnderEdits = h.measure(ctx, db, "replica B: GET /api/users/me while A edits a role", b, opts, getMe(b.url, accts))
	close(stop)
	n := <-edits
	out.EditsPerS = float64(n) / time.Since(began).Seconds()
	return <-errs
}

// replicaRound polls the second replica across one change made through
// the first, until an answer to a probe sent after the change shows it
// (at most 5 s) and for 20 ms more.
func replicaRound(ctx context.Context, probeURL, token string, change func() error, old, want int) (report.ReplicaRound, error) {
	stop := make(chan struct{})
	got := make(chan []probe, 1)
	go func() { got <- poll(ctx, probeURL, token, 4, stop) }()
	time.Sleep(20 * time.Millisecond)
	err := change()
	changed := time.Now()
	if err == nil {
		// The pollers keep going while this waits for the second replica
		// to show the change to a probe of its own.
		time.Sleep(50 * time.Millisecond)
		c := load.NewClient(1)
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if _, err := send(ctx, c, http.MethodGet, probeURL, nil, "", token, want); err == nil {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	ps := <-got
	if err != nil {
		return report.ReplicaRound{}, err
	}
	r, seen := judge(ps, changed, old, want)
	if !seen {
		return r, fmt.Errorf("the second replica never answered %d in %d probes", want, len(ps))
	}
	return r, nil
}
