package appcmd

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	neturl "net/url"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

func kidOf(t *testing.T, token string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		KID string `json:"kid"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	return h.KID
}

func jwksKIDs(t *testing.T, app *apptest.App) string {
	t.Helper()
	var set struct {
		Keys []struct{ KID string } `json:"keys"`
	}
	app.Do(http.MethodGet, "/.well-known/jwks.json", nil).JSON(t, &set)
	var kids []string
	for _, k := range set.Keys {
		kids = append(kids, k.KID)
	}
	return strings.Join(kids, " ")
}

// TestKeysRemoveReachesEveryReplica: `app keys remove` on a Postgres
// database withdraws a signing key from every running replica at once,
// not at their next periodic reload (set to an hour here, so only the
// announcement can do it): the key's tokens get 401 on both replicas, the
// key leaves their JWKS, and signing moves to the key that replaced it.
// The only current key is removed only when told (--force).
func TestKeysRemoveReachesEveryReplica(t *testing.T) {
	// Behind PgBouncer (make test-pgbouncer) the listeners take the
	// direct URL.
	url, direct := testkit.NewDatabaseURLs(t, dialect.Postgres)
	env := baseEnv(t, url)
	if direct != url {
		env["DATABASE_DIRECT_URL"] = direct
	}
	if out, err := run(t, env, "", "migrate", "up"); err != nil {
		t.Fatalf("migrate up: %v\n%s", err, out)
	}
	open := func(url, direct string) *database.DB {
		db, err := database.Open(config.Database{URL: url, DirectURL: direct, MaxOpenConns: 10, MaxIdleConns: 5, ConnMaxLifetime: time.Hour, ConnMaxIdleTime: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	// Replica b reaches the database (its listener, at least) through a
	// proxy that can cut it off.
	u, err := neturl.Parse(direct)
	if err != nil {
		t.Fatal(err)
	}
	px := testkit.NewFaultProxy(t, u.Host)
	u.Host = px.Addr()
	bURL := url
	if direct == url {
		bURL = u.String()
	}
	hour := testkit.WithEnv("JWT_KEY_REFRESH_INTERVAL", "1h")
	a := apptest.Start(t, open(url, direct), hour)
	b := apptest.Start(t, open(bURL, u.String()), hour)
	replicas := map[string]*apptest.App{"a": a, "b": b}

	status := func(app *apptest.App, token string) int {
		t.Helper()
		return app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(token)).Status
	}
	accepted := func(what, token string) {
		t.Helper()
		for name, app := range replicas {
			if s := status(app, token); s != http.StatusOK {
				t.Fatalf("%s: replica %s answers %d", what, name, s)
			}
		}
	}
	// refused waits for every replica to refuse token and to drop kid from
	// its JWKS: 15 s at most, against the hour of the periodic reload (the
	// announcement travels asynchronously, like a request already in
	// flight at the removal). A 503 is a replica whose pooled connections
	// died in the cut below and are found dead on first use: not an answer
	// about the key, so it waits on.
	refused := func(what, token, kid string) {
		t.Helper()
		for name, app := range replicas {
			deadline := time.Now().Add(15 * time.Second)
			for {
				s := status(app, token)
				if s == http.StatusUnauthorized && !strings.Contains(jwksKIDs(t, app), kid) {
					break
				}
				if (s != http.StatusOK && s != http.StatusUnauthorized && s != http.StatusServiceUnavailable) || time.Now().After(deadline) {
					t.Fatalf("%s: replica %s still answers %d; JWKS %s", what, name, s, jwksKIDs(t, app))
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}

	user := a.NewUser(false)
	k0 := kidOf(t, user.Token)
	accepted("before any removal", user.Token)

	// The only current key: refused without --force, with a message that
	// says what to do; nothing changes.
	out, err := run(t, env, "", "keys", "remove", k0)
	if err == nil || !strings.Contains(err.Error(), "only current") || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("removing the only current key: %v\n%s", err, out)
	}
	if _, err := run(t, env, "", "keys", "remove", "no-such-key"); err == nil || !strings.Contains(err.Error(), "no signing key") {
		t.Fatalf("unknown kid: %v", err)
	}
	accepted("after the refusals", user.Token)

	// Emergency: remove it anyway. A new key signs at once.
	out, err = run(t, env, "", "keys", "remove", k0, "--force")
	if err != nil || !strings.Contains(out, "removed "+k0) {
		t.Fatalf("keys remove --force: %v\n%s", err, out)
	}
	refused("the removed current key", user.Token, k0)
	fresh := a.Login(user.Email, user.Password)
	k1 := kidOf(t, fresh)
	if k1 == k0 || !strings.Contains(out, "signing with "+k1) {
		t.Fatalf("after removal signing with %s (removed %s); CLI said:\n%s", k1, k0, out)
	}
	accepted("a token of the replacement key", fresh)
	accepted("a token the other replica signed", b.Login(user.Email, user.Password))

	// A retired key: rotate twice (k1 retires), then remove it without
	// --force; its tokens end on both replicas, signing carries on.
	for range 2 {
		if out, err := run(t, env, "", "keys", "rotate"); err != nil {
			t.Fatalf("rotate: %v\n%s", err, out)
		}
	}
	if out, err := run(t, env, "", "keys", "remove", k1); err != nil || !strings.Contains(out, "removed "+k1) {
		t.Fatalf("remove the retired key: %v\n%s", err, out)
	}
	refused("the removed retired key", fresh, k1)
	for name, app := range replicas {
		tok := app.Login(user.Email, user.Password)
		if kid := kidOf(t, tok); kid == k0 || kid == k1 {
			t.Fatalf("replica %s signs with removed key %s", name, kid)
		}
		accepted("a token after the second removal", tok)
	}

	// A replica cut off from the database misses the announcement; when
	// its listener is back it reloads the set (it may have missed
	// anything), so the key ends there too, not an hour later.
	last := a.Login(user.Email, user.Password)
	accepted("before the cut", last)
	px.Cut()
	out, err = run(t, env, "", "keys", "remove", kidOf(t, last), "--force")
	if err != nil {
		t.Fatalf("remove while replica b is cut off: %v\n%s", err, out)
	}
	px.Restore()
	refused("a removal replica b missed", last, kidOf(t, last))
}

// TestKeysRemoveRefusals: the command's own checks, on either database.
func TestKeysRemoveRefusals(t *testing.T) {
	env := baseEnv(t, testkit.NewDatabaseURL(t, dialect.SQLite))
	out, err := run(t, env, "", "keys", "rotate")
	if err != nil {
		t.Fatalf("rotate: %v\n%s", err, out)
	}
	next := strings.TrimSpace(out[strings.LastIndex(out, "published next key ")+len("published next key "):])
	if _, err := run(t, env, "", "keys", "remove"); err == nil {
		t.Fatal("remove without a kid was accepted")
	}
	if _, err := run(t, env, "", "keys", "remove", "x\x00y"); err == nil || !strings.Contains(err.Error(), "no signing key") {
		t.Fatalf("a malformed kid: %v", err)
	}
	// A published next key is removed without --force.
	if out, err := run(t, env, "", "keys", "remove", next); err != nil || !strings.Contains(out, "removed "+next) {
		t.Fatalf("remove the next key: %v\n%s", err, out)
	}
	if _, err := run(t, env, "", "keys", "remove", next); err == nil || !strings.Contains(err.Error(), "no signing key") {
		t.Fatalf("removing it twice: %v", err)
	}
}

// TestKeysRemoveTakesAKidBeginningWithADash: kids are base64url thumbprints
// and one in 32 begins with '-'; copied from the JWKS it must reach the key
// set as typed, not be read as shorthand flags.
func TestKeysRemoveTakesAKidBeginningWithADash(t *testing.T) {
	env := baseEnv(t, testkit.NewDatabaseURL(t, dialect.SQLite))
	for _, args := range [][]string{
		{"-d-sHzI9NA3H3Dusx"},
		{"-d-sHzI9NA3H3Dusx", "--force"},
		{"--force=false", "-d-sHzI9NA3H3Dusx"},
		{"--", "-d-sHzI9NA3H3Dusx"},
	} {
		_, err := run(t, env, "", append([]string{"keys", "remove"}, args...)...)
		if err == nil || !strings.Contains(err.Error(), `no signing key "-d-sHzI9NA3H3Dusx"`) {
			t.Errorf("keys remove %q: %v", args, err)
		}
	}
	for args, want := range map[string]string{
		"":                "takes one kid, got 0",
		"a b":             "takes one kid, got 2",
		"--forced a":      "unknown flag --forced",
		"--force=maybe a": "--force takes true or false",
		"-- --force a":    "takes one kid, got 2",
	} {
		_, err := run(t, env, "", append([]string{"keys", "remove"}, strings.Fields(args)...)...)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "usage: ") {
			t.Errorf("keys remove %s: %v, want %q with the usage line", args, err, want)
		}
	}
	out, err := run(t, env, "", "keys", "remove", "--help")
	if err != nil || !strings.Contains(out, "--force") {
		t.Errorf("keys remove --help: %v\n%s", err, out)
	}
}
