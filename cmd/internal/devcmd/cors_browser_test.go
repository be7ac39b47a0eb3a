package devcmd

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/testkit"
)

// corsPage is a front end on another origin: it signs in with the password
// grant, then calls a protected route with a bearer token (a preflighted
// request: Authorization is not a CORS-safelisted header) and reports what
// the browser let it read.
const corsPage = `<!doctype html><meta charset="utf-8"><title>front end</title>
<body><script>
async function run(api, email, password) {
  const out = {};
  try {
    const login = await fetch(api + "/api/auth/login", {method: "POST",
      body: new URLSearchParams({grant_type: "password", username: email, password: password})});
    out.login = login.status;
    const token = (await login.json()).access_token;
    const me = await fetch(api + "/api/users/me", {headers: {Authorization: "Bearer " + token}});
    out.me = me.status;
    out.email = (await me.json()).email;
    out.requestID = me.headers.get("X-Request-ID") || "";
    const anon = await fetch(api + "/api/users/me", {headers: {Authorization: "Bearer not-a-token"}});
    out.anon = anon.status;
    out.challenge = anon.headers.get("WWW-Authenticate") || "";
    out.code = (await anon.json()).code;
  } catch (e) {
    out.error = String(e);
  }
  return out;
}
document.body.dataset.ready = "true";
</script>`

type corsResult struct {
	Login     int    `json:"login"`
	Me        int    `json:"me"`
	Email     string `json:"email"`
	RequestID string `json:"requestID"`
	Anon      int    `json:"anon"`
	Challenge string `json:"challenge"`
	Code      string `json:"code"`
	Error     string `json:"error"`
}

// TestCORSFromABrowser: a browser app on a configured origin calls the API,
// preflight included, and reads the headers it needs (request id, the
// bearer challenge); the same page on an origin not configured is blocked
// by the browser itself.
func TestCORSFromABrowser(t *testing.T) {
	testkit.ChromiumPath(t)
	page := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprint(w, corsPage)
	})
	front := httptest.NewServer(page)
	t.Cleanup(front.Close)
	foreign := httptest.NewServer(page)
	t.Cleanup(foreign.Close)

	app := apptest.Start(t, testkit.NewDB(t, dialect.SQLite), testkit.WithConfig(func(c *config.Config) {
		c.Sessions.CORSOrigins = []string{front.URL}
	}))
	user := app.NewUser(false)
	call := fmt.Sprintf("run(%q, %q, %q)", app.URL, user.Email, user.Password)

	b := testkit.NewBrowser(t, 800, 600)
	b.Open(front.URL)
	got := testkit.EvalAsync[corsResult](b, call)
	if got.Error != "" || got.Login != http.StatusOK || got.Me != http.StatusOK || got.Email != user.Email {
		t.Fatalf("from the configured origin: %+v\nconsole:\n%s", got, strings.Join(b.Console(), "\n"))
	}
	if got.RequestID == "" || got.Anon != http.StatusUnauthorized || !strings.HasPrefix(got.Challenge, "Bearer") || got.Code == "" {
		t.Fatalf("exposed headers and problem body from the configured origin: %+v", got)
	}

	other := testkit.NewBrowser(t, 800, 600)
	other.Open(foreign.URL)
	if got := testkit.EvalAsync[corsResult](other, call); got.Error == "" || got.Me != 0 {
		t.Fatalf("from an origin not configured the browser must block the call: %+v", got)
	}
}
