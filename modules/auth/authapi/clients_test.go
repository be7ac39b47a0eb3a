package authapi_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// backendSecret has characters that RFC 6749 §2.3.1's form-urlencoding
// changes (':' would otherwise split the Basic pair), so a server that
// skipped the unescaping would refuse it.
const backendSecret = "s3cr:t/+ &=é%x-9f2c7d1e0b4a6f83c5d2e9a1b7f40c6e"

// withClients registers a public client "web" and a confidential client
// "backend" beside the default one.
var withClients = func() testkit.Option {
	sum := sha256.Sum256([]byte(backendSecret))
	return testkit.WithEnv("OAUTH_CLIENTS", "default,web,backend=sha256:"+hex.EncodeToString(sum[:]))
}()

// clientOfToken reads the client_id claim of an access token.
func clientOfToken(t *testing.T, tok string) string {
	t.Helper()
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		ClientID string `json:"client_id"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return c.ClientID
}

// TestOAuth2ClientAuthentication runs golang.org/x/oauth2 as a real client
// with both RFC 6749 §2.3.1 methods, for a public and a confidential
// client: the password grant, a refresh through its TokenSource, and a
// call with the result. The tokens carry the client that obtained them,
// and a refresh token does not work for another client.
func TestOAuth2ClientAuthentication(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db, withClients)
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, app.HTTP)
		endpoint := func(style oauth2.AuthStyle) oauth2.Endpoint {
			return oauth2.Endpoint{TokenURL: app.URL + "/api/auth/login", AuthStyle: style}
		}
		styles := map[string]oauth2.AuthStyle{"header": oauth2.AuthStyleInHeader, "params": oauth2.AuthStyleInParams}
		for styleName, style := range styles {
			for _, client := range []struct{ id, secret string }{{"web", ""}, {"backend", backendSecret}} {
				t.Run(styleName+"/"+client.id, func(t *testing.T) {
					u := app.NewUser(false)
					conf := &oauth2.Config{ClientID: client.id, ClientSecret: client.secret, Endpoint: endpoint(style)}
					tok, err := conf.PasswordCredentialsToken(ctx, u.Email, u.Password)
					if err != nil {
						t.Fatalf("password grant: %v", err)
					}
					if got := clientOfToken(t, tok.AccessToken); got != client.id {
						t.Fatalf("access token client_id = %q, want %q", got, client.id)
					}
					first := *tok
					tok.Expiry = time.Now().Add(-time.Minute) // make the client refresh
					fresh, err := conf.TokenSource(ctx, tok).Token()
					if err != nil {
						t.Fatalf("refresh: %v", err)
					}
					if fresh.RefreshToken == first.RefreshToken || clientOfToken(t, fresh.AccessToken) != client.id {
						t.Fatalf("refresh did not rotate for %s: %+v", client.id, fresh)
					}
					res, err := conf.Client(ctx, fresh).Get(app.URL + "/api/users/me")
					if err != nil || res.StatusCode != http.StatusOK {
						t.Fatalf("me: %v %v", err, res)
					}
					_ = res.Body.Close()

					// The same refresh token through another registered client.
					other := &oauth2.Config{ClientID: "web", Endpoint: endpoint(style)}
					if client.id == "web" {
						other = &oauth2.Config{ClientID: "backend", ClientSecret: backendSecret, Endpoint: endpoint(style)}
					}
					fresh.Expiry = time.Now().Add(-time.Minute)
					_, err = other.TokenSource(ctx, fresh).Token()
					var re *oauth2.RetrieveError
					if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" || re.Response.StatusCode != http.StatusBadRequest {
						t.Fatalf("refresh with another client: %v", err)
					}
				})
			}
		}
	})
}

func basic(id, secret string) testkit.Header {
	return testkit.Header{Key: "Authorization", Value: "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))}
}

func formOf(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// TestClientAuthenticationRefusals sends each refused client
// authentication as a raw request, to the token and the revocation
// endpoint: two methods at once is invalid_request (400); an unknown
// client, a wrong or missing secret, a secret for a public client and a
// broken Basic header are invalid_client (401) with a Basic challenge.
func TestClientAuthenticationRefusals(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db, withClients)
		u := app.NewUser(false)
		escaped := url.QueryEscape(backendSecret)
		cases := []struct {
			name    string
			form    url.Values
			headers []testkit.Header
			status  int
			error   string
		}{
			{"basic-and-body-id", formOf("client_id", "web"), []testkit.Header{basic("web", "")}, http.StatusBadRequest, "invalid_request"},
			{"basic-and-body-secret", formOf("client_secret", backendSecret), []testkit.Header{basic("backend", escaped)}, http.StatusBadRequest, "invalid_request"},
			{"secret-without-id", formOf("client_secret", backendSecret), nil, http.StatusBadRequest, "invalid_request"},
			{"unknown-client-body", formOf("client_id", "stranger"), nil, http.StatusUnauthorized, "invalid_client"},
			{"unknown-client-basic", nil, []testkit.Header{basic("stranger", "")}, http.StatusUnauthorized, "invalid_client"},
			{"secret-for-public-basic", nil, []testkit.Header{basic("web", "anything")}, http.StatusUnauthorized, "invalid_client"},
			{"secret-for-public-body", formOf("client_id", "web", "client_secret", "anything"), nil, http.StatusUnauthorized, "invalid_client"},
			{"wrong-secret-basic", nil, []testkit.Header{basic("backend", "wrong")}, http.StatusUnauthorized, "invalid_client"},
			{"wrong-secret-body", formOf("client_id", "backend", "client_secret", "wrong"), nil, http.StatusUnauthorized, "invalid_client"},
			{"missing-secret", formOf("client_id", "backend"), nil, http.StatusUnauthorized, "invalid_client"},
			// Unescaped, the ':' in the secret splits the pair elsewhere.
			{"secret-not-form-encoded", nil, []testkit.Header{basic("backend", backendSecret)}, http.StatusUnauthorized, "invalid_client"},
			{"basic-not-base64", nil, []testkit.Header{{Key: "Authorization", Value: "Basic !!!"}}, http.StatusUnauthorized, "invalid_client"},
			{"basic-without-colon", nil, []testkit.Header{{Key: "Authorization", Value: "Basic " + base64.StdEncoding.EncodeToString([]byte("web"))}}, http.StatusUnauthorized, "invalid_client"},
		}
		endpoints := map[string]url.Values{
			"/api/auth/login":  formOf("grant_type", "password", "username", u.Email, "password", u.Password),
			"/api/auth/revoke": formOf("token", "not-a-token"),
		}
		for path, base := range endpoints {
			for _, c := range cases {
				t.Run(strings.TrimPrefix(path, "/api/auth/")+"/"+c.name, func(t *testing.T) {
					form := url.Values{}
					for k, v := range base {
						form[k] = v
					}
					for k, v := range c.form {
						form[k] = v
					}
					res := app.Do(http.MethodPost, path, form, c.headers...)
					var body struct {
						Error       string `json:"error"`
						Description string `json:"error_description"`
					}
					if err := json.Unmarshal(res.Body, &body); err != nil || res.Status != c.status || body.Error != c.error || body.Description == "" {
						t.Fatalf("%d %s, want %d %s", res.Status, res.Body, c.status, c.error)
					}
					challenge := res.Header.Get("WWW-Authenticate")
					if (c.status == http.StatusUnauthorized) != strings.HasPrefix(challenge, `Basic realm="`) {
						t.Fatalf("WWW-Authenticate = %q on a %d", challenge, c.status)
					}
				})
			}
		}

		// Controls: each client authenticated right, and the Swagger UI's
		// empty Basic pair (blank client fields), which acts as the default client.
		login := endpoints["/api/auth/login"]
		for name, h := range map[string]testkit.Header{
			"public-basic": basic("web", ""), "confidential-basic": basic("backend", escaped), "swagger-empty-basic": basic("", ""),
		} {
			if res := app.Do(http.MethodPost, "/api/auth/login", login, h); res.Status != http.StatusOK {
				t.Fatalf("%s: %d %s", name, res.Status, res.Body)
			}
		}
		withBody := formOf("client_id", "backend", "client_secret", backendSecret)
		for k, v := range login {
			withBody[k] = v
		}
		if res := app.Do(http.MethodPost, "/api/auth/login", withBody); res.Status != http.StatusOK {
			t.Fatalf("confidential-body: %d %s", res.Status, res.Body)
		}
	})
}

// TestRefreshAndRevokeAreBoundToTheClient: a refresh token obtained by one
// client is refused to another (invalid_grant), a confidential client's
// must be refreshed with its secret (invalid_client), a public client's
// works without naming the client again; revocation by another client is
// refused (unauthorized_client) and leaves the token working, by its own
// client it ends the session.
func TestRefreshAndRevokeAreBoundToTheClient(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db, withClients)
		u := app.NewUser(false)
		signIn := func(h ...testkit.Header) tokens {
			t.Helper()
			var tk tokens
			app.Do(http.MethodPost, "/api/auth/login", formOf("grant_type", "password", "username", u.Email, "password", u.Password), h...).
				Expect(http.StatusOK).JSON(t, &tk)
			return tk
		}
		oauthError := func(res *testkit.Response) string {
			t.Helper()
			var tk tokens
			res.JSON(t, &tk)
			return tk.Error
		}
		confidential := signIn(basic("backend", url.QueryEscape(backendSecret)))
		if res := app.Do(http.MethodPost, "/api/auth/login", refreshForm(confidential.RefreshToken), basic("web", "")); res.Status != http.StatusBadRequest || oauthError(res) != "invalid_grant" {
			t.Fatalf("another client's refresh token: %d %s", res.Status, res.Body)
		}
		if res := app.Do(http.MethodPost, "/api/auth/login", refreshForm(confidential.RefreshToken)); res.Status != http.StatusUnauthorized || oauthError(res) != "invalid_client" {
			t.Fatalf("confidential refresh without its secret: %d %s", res.Status, res.Body)
		}
		public := signIn(basic("web", ""))
		var renewed tokens
		app.Do(http.MethodPost, "/api/auth/login", refreshForm(public.RefreshToken)).Expect(http.StatusOK).JSON(t, &renewed)
		if clientOfToken(t, renewed.AccessToken) != "web" {
			t.Fatalf("public refresh changed the client: %s", renewed.AccessToken)
		}

		res := app.Do(http.MethodPost, "/api/auth/revoke", formOf("token", renewed.RefreshToken, "client_id", "backend", "client_secret", backendSecret))
		if res.Status != http.StatusBadRequest || oauthError(res) != "unauthorized_client" {
			t.Fatalf("revoke by another client: %d %s", res.Status, res.Body)
		}
		app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(renewed.AccessToken)).Expect(http.StatusOK)
		app.Do(http.MethodPost, "/api/auth/revoke", formOf("token", renewed.RefreshToken, "client_id", "web")).Expect(http.StatusOK)
		app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(renewed.AccessToken)).Expect(http.StatusUnauthorized)
		app.Do(http.MethodPost, "/api/auth/revoke", formOf("token", confidential.AccessToken, "token_type_hint", "access_token"), basic("backend", url.QueryEscape(backendSecret))).Expect(http.StatusOK)
		app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(confidential.AccessToken)).Expect(http.StatusUnauthorized)
	})
}

// TestClientSecretGuessesAreThrottled: RFC 6749 §2.3.1 wants the
// endpoints that check client secrets protected against brute force. Each
// presented secret reserves an attempt from the address's allowance before
// it is checked, so a burst of wrong secrets gets the limit and 429s, the
// revocation endpoint draws on the same allowance, and then even the right
// secret waits; right secrets before it give their attempt back.
func TestClientSecretGuessesAreThrottled(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		const limit = 5 // AUTH_THROTTLE_IP_LIMIT, at least 5 × the pair limit
		app := apptest.Start(t, db, withClients,
			testkit.WithEnv("AUTH_THROTTLE_ACCOUNT_IP_LIMIT", "1"), testkit.WithEnv("AUTH_THROTTLE_ACCOUNT_LIMIT", "2"),
			testkit.WithEnv("AUTH_THROTTLE_IP_LIMIT", strconv.Itoa(limit)))
		u := app.NewUser(false)
		right := basic("backend", url.QueryEscape(backendSecret))
		grant := formOf("grant_type", "password", "username", u.Email, "password", u.Password)
		for i := range limit + 2 {
			if res := app.Do(http.MethodPost, "/api/auth/login", grant, right); res.Status != http.StatusOK {
				t.Fatalf("right secret #%d: %d %s", i, res.Status, res.Body)
			}
		}
		statuses := make([]int, 4*limit)
		var wg sync.WaitGroup
		for i := range statuses {
			path, form := "/api/auth/login", grant
			if i%2 == 1 {
				path, form = "/api/auth/revoke", formOf("token", "not-a-token")
			}
			wg.Go(func() {
				statuses[i] = app.Do(http.MethodPost, path, form, basic("backend", fmt.Sprintf("guess-%d", i))).Status
			})
		}
		wg.Wait()
		count := map[int]int{}
		for _, s := range statuses {
			count[s]++
		}
		if count[http.StatusUnauthorized] != limit || count[http.StatusTooManyRequests] != len(statuses)-limit {
			t.Fatalf("burst of %d wrong secrets: %v, want %d checked (401) and the rest 429", len(statuses), count, limit)
		}
		res := app.Do(http.MethodPost, "/api/auth/login", grant, right)
		var body struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal(res.Body, &body); err != nil || res.Status != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
			t.Fatalf("the right secret after the burst: %d %s (Retry-After %q)", res.Status, res.Body, res.Header.Get("Retry-After"))
		}
		// A public client presents no secret: nothing to guess, not throttled.
		if res := app.Do(http.MethodPost, "/api/auth/login", grant, basic("web", "")); res.Status != http.StatusOK {
			t.Fatalf("a public client after the burst: %d %s", res.Status, res.Body)
		}
	})
}
