package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/acme/monolith/bench/load"
)

// account is a seeded user.
type account struct {
	ID, Email, Password, Token string
}

// send performs one request and checks the status; it returns the body.
func send(ctx context.Context, c *load.Client, method, u string, body []byte, contentType, token string, want int) ([]byte, error) {
	status, b, err := c.Do(ctx, load.Request{Method: method, URL: u, Body: body, ContentType: contentType, Bearer: token})
	if err != nil {
		return nil, err
	}
	if status != want {
		return b, &load.StatusError{Status: status, Body: string(b)}
	}
	return b, nil
}

const formType = "application/x-www-form-urlencoded"

// tokenResponse is the token endpoint's answer (RFC 6749 §5.1).
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

func login(ctx context.Context, c *load.Client, base, email, password string) (tokenResponse, error) {
	form := url.Values{"grant_type": {"password"}, "username": {email}, "password": {password}, "client_id": {"bench"}}
	b, err := send(ctx, c, http.MethodPost, base+"/api/auth/login", []byte(form.Encode()), formType, "", http.StatusOK)
	if err != nil {
		return tokenResponse{}, fmt.Errorf("login %s: %w", email, err)
	}
	var t tokenResponse
	if err := json.Unmarshal(b, &t); err != nil || t.AccessToken == "" {
		return t, fmt.Errorf("login %s: no access token in %s", email, b)
	}
	return t, nil
}

func getMe(base string, accts []account) load.Call {
	return func(ctx context.Context, c *load.Client, w int) error {
		_, err := send(ctx, c, http.MethodGet, base+"/api/users/me", nil, "", accts[w%len(accts)].Token, http.StatusOK)
		return err
	}
}

func listUsers(base, token string) load.Call {
	return func(ctx context.Context, c *load.Client, _ int) error {
		_, err := send(ctx, c, http.MethodGet, base+"/api/users?limit=50", nil, "", token, http.StatusOK)
		return err
	}
}

func patchMe(base string, accts []account) load.Call {
	var n atomic.Int64
	return func(ctx context.Context, c *load.Client, w int) error {
		body := fmt.Appendf(nil, `{"full_name":"bench %d %d"}`, w, n.Add(1))
		_, err := send(ctx, c, http.MethodPatch, base+"/api/users/me", body, "application/json", accts[w%len(accts)].Token, http.StatusOK)
		return err
	}
}

func passwordGrant(base string, accts []account) load.Call {
	forms := make([][]byte, len(accts))
	for i, a := range accts {
		forms[i] = []byte(url.Values{"grant_type": {"password"}, "username": {a.Email}, "password": {a.Password}, "client_id": {"bench"}}.Encode())
	}
	return func(ctx context.Context, c *load.Client, w int) error {
		_, err := send(ctx, c, http.MethodPost, base+"/api/auth/login", forms[w%len(forms)], formType, "", http.StatusOK)
		return err
	}
}

// refreshRotation exchanges each worker's refresh token for a new pair and
// keeps the new refresh token: a rotation chain per worker, so no two
// requests present the same token (which reuse detection would punish).
func refreshRotation(base string, chains []string) load.Call {
	return func(ctx context.Context, c *load.Client, w int) error {
		form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {chains[w]}, "client_id": {"bench"}}
		b, err := send(ctx, c, http.MethodPost, base+"/api/auth/login", []byte(form.Encode()), formType, "", http.StatusOK)
		if err != nil {
			return err
		}
		var t tokenResponse
		if err := json.Unmarshal(b, &t); err != nil || t.AccessToken == "" || t.RefreshToken == "" {
			return fmt.Errorf("refresh: unexpected body %.120s", b)
		}
		chains[w] = t.RefreshToken
		return nil
	}
}

// seed creates n users through the superuser API and signs the first
// `signIn` of them in.
func seed(ctx context.Context, base, rootEmail, rootPassword string, n, signIn int) (root tokenResponse, accts []account, err error) {
	c := load.NewClient(4)
	if root, err = login(ctx, c, base, rootEmail, rootPassword); err != nil {
		return root, nil, err
	}
	accts = make([]account, n)
	sem := make(chan struct{}, 4)
	errs := make(chan error, n)
	for i := range n {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			a := account{Email: fmt.Sprintf("bench-%03d@example.test", i), Password: fmt.Sprintf("bench passphrase %03d", i)}
			body, _ := json.Marshal(map[string]any{"email": a.Email, "password": a.Password, "full_name": "Bench User"})
			b, err := send(ctx, c, http.MethodPost, base+"/api/users", body, "application/json", root.AccessToken, http.StatusCreated)
			if err != nil {
				errs <- fmt.Errorf("create %s: %w", a.Email, err)
				return
			}
			var created struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(b, &created)
			a.ID = created.ID
			if i < signIn {
				t, err := login(ctx, c, base, a.Email, a.Password)
				if err != nil {
					errs <- err
					return
				}
				a.Token = t.AccessToken
			}
			accts[i] = a
			errs <- nil
		}()
	}
	for range n {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	return root, accts[:signIn], err
}

// refreshChains signs each worker in once more and returns its refresh
// token, or ok=false when the server issues none (no refresh grant).
func refreshChains(ctx context.Context, base string, accts []account, workers int) ([]string, bool, error) {
	c := load.NewClient(1)
	chains := make([]string, workers)
	for w := range workers {
		a := accts[w%len(accts)]
		t, err := login(ctx, c, base, a.Email, a.Password)
		if err != nil {
			return nil, false, err
		}
		if strings.TrimSpace(t.RefreshToken) == "" {
			return nil, false, nil
		}
		chains[w] = t.RefreshToken
	}
	return chains, true, nil
}
