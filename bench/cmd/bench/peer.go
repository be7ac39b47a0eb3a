package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/acme/monolith/bench/load"
	"github.com/acme/monolith/bench/report"
)

// The peer is PocketBase: a Go framework with SQLite and built-in users
// that teams pick instead of a template. Its equivalent of GET
// /api/users/me is the signed-in user reading their own record of the
// built-in users collection (whose view rule is "id = @request.auth.id").

// buildPeer builds the peer from the Go module proxy (pkg@version) with
// the flags our binary gets; the binary is rewritten like ours so that
// both map their pages the same way.
func buildPeer(ctx context.Context, pkgAtVersion, tmp string) (string, error) {
	gobin := filepath.Join(tmp, "peer-bin")
	cmd := exec.CommandContext(ctx, "go", "install", "-trimpath", "-ldflags", "-s -w", pkgAtVersion) //nolint:gosec // the operator's pinned peer
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOBIN="+gobin, "GOFLAGS=-mod=mod")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s: %w\n%s", pkgAtVersion, err, b)
	}
	pkg, _, _ := strings.Cut(pkgAtVersion, "@")
	built := filepath.Join(gobin, filepath.Base(pkg))
	out := filepath.Join(tmp, "peer")
	return out, rewritePaged(built, out)
}

// startPeer serves the peer on a fresh data directory.
func (h *harness) startPeer(name string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(h.tmp, name+"-peer-data")
	return startReady(h.peer, []string{"serve", "--http", addr, "--dir", dir}, nil, addr, filepath.Join(h.tmp, name+"-peer.log"), "/api/health")
}

// peerAccount is a user of the peer, signed in.
type peerAccount struct {
	ID, Token string
}

// seedPeer registers n users through the peer's public sign-up (the
// default rule of its users collection) and signs each in with its
// password.
func seedPeer(ctx context.Context, base string, n int) ([]peerAccount, error) {
	c := load.NewClient(4)
	accts := make([]peerAccount, n)
	for i := range accts {
		email, password := fmt.Sprintf("peer-%03d@example.test", i), fmt.Sprintf("peer passphrase %03d", i)
		body, _ := json.Marshal(map[string]string{"email": email, "password": password, "passwordConfirm": password, "name": "Bench User"})
		if _, err := send(ctx, c, http.MethodPost, base+"/api/collections/users/records", body, "application/json", "", http.StatusOK); err != nil {
			return nil, fmt.Errorf("peer: create %s: %w", email, err)
		}
		body, _ = json.Marshal(map[string]string{"identity": email, "password": password})
		b, err := send(ctx, c, http.MethodPost, base+"/api/collections/users/auth-with-password", body, "application/json", "", http.StatusOK)
		if err != nil {
			return nil, fmt.Errorf("peer: sign in %s: %w", email, err)
		}
		var r struct {
			Token  string `json:"token"`
			Record struct {
				ID string `json:"id"`
			} `json:"record"`
		}
		if err := json.Unmarshal(b, &r); err != nil || r.Token == "" || r.Record.ID == "" {
			return nil, fmt.Errorf("peer: sign in %s: no token or id in %s", email, b)
		}
		accts[i] = peerAccount{ID: r.Record.ID, Token: r.Token}
	}
	return accts, nil
}

// peerReadOwn is the peer's authenticated read of the caller's own record.
func peerReadOwn(base string, accts []peerAccount) load.Call {
	return func(ctx context.Context, c *load.Client, w int) error {
		a := accts[w%len(accts)]
		_, err := send(ctx, c, http.MethodGet, base+"/api/collections/users/records/"+a.ID, nil, "", a.Token, http.StatusOK)
		return err
	}
}

const peerScenario = "GET own record (vs the peer)"

// peerRead measures the peer's read of the caller's own record under the
// same load as ours and reports our read (app, measured just before) as a
// ratio to it. The peer runs alone: our server is idle meanwhile.
func (h *harness) peerRead(ctx context.Context, db string, opts load.Options, app *report.Measure) (report.Scenario, error) {
	s := report.Scenario{Name: peerScenario, BaseName: "PocketBase " + peerVersion(h.o.peer)}
	log.Printf("%s: starting the peer", db)
	peer, err := h.startPeer(db)
	if err != nil {
		return s, err
	}
	defer peer.stop()
	accts, err := seedPeer(ctx, peer.url, min(h.o.workers, h.o.users))
	if err != nil {
		return s, err
	}
	s.App = app
	s.Baseline = h.measure(ctx, db, s.Name+" (peer)", peer, opts, peerReadOwn(peer.url, accts))
	s.Ratio = ratio(s.App, s.Baseline)
	return s, nil
}

func peerVersion(pkgAtVersion string) string {
	_, v, _ := strings.Cut(pkgAtVersion, "@")
	return v
}
