package authapi_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/google/uuid"
	"go.uber.org/fx"
	"golang.org/x/oauth2"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	Error        string `json:"error"`
}

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}
}

// TestOAuth2TokenSourceRefresh: golang.org/x/oauth2 renews an expired
// access token with the refresh token, and the rotated pair works.
func TestOAuth2TokenSourceRefresh(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db, withClients)
		u := app.NewUser(false)
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, app.HTTP)
		conf := &oauth2.Config{ClientID: "web", Endpoint: oauth2.Endpoint{TokenURL: app.URL + "/api/auth/login", AuthStyle: oauth2.AuthStyleInParams}}
		tok, err := conf.PasswordCredentialsToken(ctx, u.Email, u.Password)
		if err != nil || tok.RefreshToken == "" {
			t.Fatalf("password grant: %v %+v", err, tok)
		}
		first := *tok
		tok.Expiry = time.Now().Add(-time.Minute) // make the client refresh
		fresh, err := conf.TokenSource(ctx, tok).Token()
		if err != nil {
			t.Fatalf("TokenSource refresh: %v", err)
		}
		if fresh.AccessToken == first.AccessToken || fresh.RefreshToken == first.RefreshToken || fresh.RefreshToken == "" {
			t.Fatalf("refresh did not rotate: %+v", fresh)
		}
		res, err := conf.Client(ctx, fresh).Get(app.URL + "/api/users/me")
		if err != nil || res.StatusCode != http.StatusOK {
			t.Fatalf("me with refreshed token: %v %v", err, res)
		}
		_ = res.Body.Close()
	})
}

// TestConcurrentRefreshGetsOneChild: concurrent refreshes with the same
// token inside the grace window all succeed with the same child; after the
// child is used, the old token is a reuse. Control: a lone refresh after
// the window (grace 0) is refused.
func TestConcurrentRefreshGetsOneChild(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		u := app.NewUser(false)
		var tk tokens
		app.Do(http.MethodPost, "/api/auth/login", url.Values{"grant_type": {"password"}, "username": {u.Email}, "password": {u.Password}}).JSON(t, &tk)

		const n = 4
		children := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				res := app.Do(http.MethodPost, "/api/auth/login", refreshForm(tk.RefreshToken))
				var c tokens
				if res.Status == http.StatusOK {
					res.JSON(t, &c)
				}
				children[i] = c.RefreshToken
			})
		}
		wg.Wait()
		for i := range children {
			if children[i] == "" || children[i] != children[0] {
				t.Fatalf("concurrent refreshes: %q", children)
			}
		}
		if res := app.Do(http.MethodPost, "/api/auth/login", refreshForm(children[0])); res.Status != http.StatusOK {
			t.Fatalf("child refresh: %d %s", res.Status, res.Body)
		}
		if res := app.Do(http.MethodPost, "/api/auth/login", refreshForm(tk.RefreshToken)); res.Status != http.StatusBadRequest {
			t.Fatalf("reuse of a token whose child was used: %d", res.Status)
		}
	})
}

// TestSessionLifetimesComeFromTheSettings: REFRESH_TOKEN_IDLE_TTL and
// REFRESH_TOKEN_ABSOLUTE_TTL reach the service (the rules themselves are
// authsvc's tests, on a clock of their own). A session is stored to end at
// the absolute lifetime; one last used longer ago than the idle lifetime
// cannot refresh (control: a little younger, it can); past its end neither
// its refresh nor its access token works. Sessions are aged in the
// database rather than by waiting.
func TestSessionLifetimesComeFromTheSettings(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		const idle, absolute = 2 * time.Hour, 5 * time.Hour
		app := apptest.Start(t, db, testkit.WithEnv("REFRESH_TOKEN_IDLE_TTL", idle.String()),
			testkit.WithEnv("REFRESH_TOKEN_ABSOLUTE_TTL", absolute.String()),
			// Each request below must read the session as the database has it.
			testkit.WithEnv("SESSION_CACHE_TTL", "0"))
		u := app.NewUser(false)
		ctx := t.Context()
		var tk tokens
		app.Do(http.MethodPost, "/api/auth/login", url.Values{"grant_type": {"password"}, "username": {u.Email}, "password": {u.Password}}).
			Expect(http.StatusOK).JSON(t, &tk)
		sid := sessionOfToken(t, tk.AccessToken)
		row, err := db.Ent.Session.Get(ctx, sid)
		if err != nil {
			t.Fatal(err)
		}
		if got := row.ExpiresAt.Sub(row.CreatedAt); got != absolute {
			t.Fatalf("session lasts %v, want REFRESH_TOKEN_ABSOLUTE_TTL %v", got, absolute)
		}
		lastUsed := func(ago time.Duration) {
			t.Helper()
			if err := db.Ent.Session.UpdateOneID(sid).SetLastUsedAt(time.Now().UTC().Add(-ago)).Exec(ctx); err != nil {
				t.Fatal(err)
			}
		}
		lastUsed(idle - time.Minute)
		app.Do(http.MethodPost, "/api/auth/login", refreshForm(tk.RefreshToken)).Expect(http.StatusOK).JSON(t, &tk)
		lastUsed(idle + time.Minute)
		app.Do(http.MethodPost, "/api/auth/login", refreshForm(tk.RefreshToken)).Expect(http.StatusBadRequest)

		app.Do(http.MethodPost, "/api/auth/login", url.Values{"grant_type": {"password"}, "username": {u.Email}, "password": {u.Password}}).
			Expect(http.StatusOK).JSON(t, &tk)
		sid = sessionOfToken(t, tk.AccessToken)
		app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(tk.AccessToken)).Expect(http.StatusOK)
		if err := db.Ent.Session.UpdateOneID(sid).SetExpiresAt(time.Now().UTC().Add(-time.Second)).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		app.Do(http.MethodPost, "/api/auth/login", refreshForm(tk.RefreshToken)).Expect(http.StatusBadRequest)
		app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(tk.AccessToken)).Expect(http.StatusUnauthorized)
	})
}

// sessionOfToken is the session an access token names (its sid claim).
func sessionOfToken(t *testing.T, tok string) uuid.UUID {
	t.Helper()
	payload, err := base64.RawURLEncoding.DecodeString(strings.Split(tok, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		SID uuid.UUID `json:"sid"`
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return c.SID
}

// TestSessionsList lists the caller's sessions with the current one marked,
// and ending one cuts its tokens off.
func TestSessionsList(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		u := app.NewUser(false)
		other := app.Login(u.Email, u.Password)
		var page struct {
			Items []struct {
				ID        string `json:"id"`
				Current   bool   `json:"current"`
				UserAgent string `json:"user_agent"`
				IP        string `json:"ip"`
			} `json:"items"`
		}
		res := app.Do(http.MethodGet, "/api/auth/sessions", nil, testkit.Bearer(u.Token))
		res.JSON(t, &page)
		list := page.Items
		if res.Status != http.StatusOK || len(list) != 2 || list[0].IP != "127.0.0.1" || list[0].UserAgent == "" {
			t.Fatalf("sessions: %d %s", res.Status, res.Body)
		}
		var otherID string
		for _, s := range list {
			if !s.Current {
				otherID = s.ID
			}
		}
		if otherID == "" || strings.Contains(string(res.Body), "hash") {
			t.Fatalf("no single current session: %s", res.Body)
		}
		if res := app.Do(http.MethodDelete, "/api/auth/sessions/"+otherID, nil, testkit.Bearer(u.Token)); res.Status != http.StatusNoContent {
			t.Fatalf("end session: %d %s", res.Status, res.Body)
		}
		if res := app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(other)); res.Status != http.StatusUnauthorized {
			t.Fatalf("ended session still works: %d", res.Status)
		}
		if res := app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(u.Token)); res.Status != http.StatusOK {
			t.Fatalf("current session ended too: %d", res.Status)
		}
	})
}

// TestKeyRotation: a rotation publishes the next key before it signs; the
// following one makes it sign while the old key still verifies.
func TestKeyRotation(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		var ring *authsvc.KeyRing
		app := apptest.Start(t, db, testkit.WithFx(fx.Populate(&ring)))
		// Another replica on the same database, started before any
		// rotation: it must trust the new key without waiting for its
		// periodic reload (1 min).
		replica := apptest.Start(t, db)
		u := app.NewUser(false)
		kidOf := func(tok string) string {
			t.Helper()
			kid, _ := headerOf(t, tok)["kid"].(string)
			return kid
		}
		jwks := func() []string {
			var set struct {
				Keys []struct {
					KID, Alg, Use string
				} `json:"keys"`
			}
			app.Do(http.MethodGet, "/.well-known/jwks.json", nil).JSON(t, &set)
			var kids []string
			for _, k := range set.Keys {
				if k.Alg != "RS256" || k.Use != "sig" {
					t.Fatalf("jwk %+v", k)
				}
				kids = append(kids, k.KID)
			}
			return kids
		}
		k0 := kidOf(u.Token)
		if ks := jwks(); len(ks) != 1 || ks[0] != k0 {
			t.Fatalf("initial jwks %v, token kid %s", ks, k0)
		}
		promoted, next, err := ring.Rotate(context.Background(), accessTokenTTL)
		if err != nil || promoted != "" {
			t.Fatalf("first rotation: %q %v", promoted, err)
		}
		if ks := jwks(); len(ks) != 2 || kidOf(app.Login(u.Email, u.Password)) != k0 {
			t.Fatalf("after publishing: jwks %v; signing must not change yet", ks)
		}
		promoted, _, err = ring.Rotate(context.Background(), accessTokenTTL)
		if err != nil || promoted != next {
			t.Fatalf("second rotation promoted %q, want %q (%v)", promoted, next, err)
		}
		fresh := app.Login(u.Email, u.Password)
		if kidOf(fresh) != next || len(jwks()) != 3 {
			t.Fatalf("new key not signing: %s, jwks %v", kidOf(fresh), jwks())
		}
		for _, a := range []*apptest.App{app, replica} {
			for _, tok := range []string{u.Token, fresh} {
				if res := a.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(tok)); res.Status != http.StatusOK {
					t.Fatalf("token refused after rotation: %d", res.Status)
				}
			}
		}
	})
}

// mailbox is a real SMTP server (go-smtp) that keeps what it receives.
type mailbox struct {
	mu   sync.Mutex
	msgs []string
	got  chan struct{}
}

func (m *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{m: m}, nil }

type mailSession struct{ m *mailbox }

func (s *mailSession) Reset()                               {}
func (s *mailSession) Logout() error                        { return nil }
func (s *mailSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *mailSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *mailSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.m.mu.Lock()
	s.m.msgs = append(s.m.msgs, string(b))
	s.m.mu.Unlock()
	s.m.got <- struct{}{}
	return nil
}

func startSMTP(t *testing.T) (*mailbox, int) {
	t.Helper()
	box := &mailbox{got: make(chan struct{}, 10)}
	srv := smtp.NewServer(box)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return box, ln.Addr().(*net.TCPAddr).Port
}

// TestPasswordResetByEmail sends the reset email through a real SMTP server
// started here, reads the token from it and resets the password: the old
// password and old sessions stop working, and a second use is 422 (the
// single use itself, the expiry and the policy check before the token is
// spent are authsvc's and authstore's tests).
func TestPasswordResetByEmail(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		box, port := startSMTP(t)
		app := apptest.Start(t, db, testkit.WithJobs(), testkit.WithConfig(func(c *config.Config) {
			c.Mail = config.Mail{SMTPHost: "127.0.0.1", SMTPPort: port, SMTPFrom: "noreply@example.test", SMTPTLS: "none"}
			c.HTTP.PublicURL = "https://app.example.test"
		}))
		u := app.NewUser(false)

		unknown := app.Do(http.MethodPost, "/api/auth/password-recovery", map[string]string{"email": "nobody@example.test"})
		known := app.Do(http.MethodPost, "/api/auth/password-recovery", map[string]string{"email": u.Email})
		if known.Status != http.StatusAccepted || string(known.Body) != string(unknown.Body) || known.Status != unknown.Status {
			t.Fatalf("recovery answers differ: %d %s / %d %s", known.Status, known.Body, unknown.Status, unknown.Body)
		}
		select {
		case <-box.got:
		case <-time.After(20 * time.Second):
			t.Fatal("no email received")
		}
		box.mu.Lock()
		msg := box.msgs[0]
		count := len(box.msgs)
		box.mu.Unlock()
		if count != 1 || !strings.Contains(msg, "To: "+u.Email) {
			t.Fatalf("%d messages; first:\n%s", count, msg)
		}
		var token string
		sc := bufio.NewScanner(strings.NewReader(msg))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if len(line) == 43 && !strings.ContainsAny(line, " :/") {
				token = line // the token on its own line
			}
		}
		if token == "" || !strings.Contains(msg, "https://app.example.test/reset-password#token="+token) {
			t.Fatalf("no token or link in:\n%s", msg)
		}
		res := app.Do(http.MethodPost, "/api/auth/reset-password", map[string]string{"token": token, "new_password": "recovered passphrase 7"})
		if res.Status != http.StatusNoContent {
			t.Fatalf("reset: %d %s", res.Status, res.Body)
		}
		if res := app.Do(http.MethodPost, "/api/auth/reset-password", map[string]string{"token": token, "new_password": "another passphrase 8"}); res.Status != http.StatusUnprocessableEntity {
			t.Fatalf("token reused: %d %s", res.Status, res.Body)
		}
		if res := app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(u.Token)); res.Status != http.StatusUnauthorized {
			t.Fatalf("old session survived the reset: %d", res.Status)
		}
		app.Login(u.Email, "recovered passphrase 7")
		if res := app.Do(http.MethodPost, "/api/auth/login", url.Values{"grant_type": {"password"}, "username": {u.Email}, "password": {u.Password}}); res.Status != http.StatusBadRequest {
			t.Fatalf("old password still works: %d", res.Status)
		}
	})
}
