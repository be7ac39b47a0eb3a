package authpages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// The public URL the mail's links are built on; the test opens the same
// path and fragment on the server it started.
const publicURL = "https://pages.example.test"

// linkIn is the reset link of a mail, moved to the test's server.
func linkIn(t *testing.T, body, server string) string {
	t.Helper()
	for line := range strings.SplitSeq(body, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), publicURL+"/reset-password#token="); ok {
			return server + "/reset-password#token=" + rest
		}
	}
	t.Fatalf("no reset link in:\n%s", body)
	return ""
}

// status waits until the page has answered (a status class set) and
// returns the class and the text.
func status(t *testing.T, b *testkit.Browser) (string, string) {
	t.Helper()
	if _, err := chromedp.Run(b.Ctx, chromedp.Poll[bool](`document.getElementById("status").className !== ""`, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("the page did not answer: %v\nconsole:\n%s", err, strings.Join(b.Console(), "\n"))
	}
	return testkit.Eval[string](b, `document.getElementById("status").className`), testkit.Eval[string](b, `document.getElementById("status").textContent`)
}

// fill types the two passwords as a person would and submits the form.
func fill(b *testkit.Browser, password, confirm string) {
	testkit.Eval[string](b, `for (const id of ["password", "confirm"]) document.getElementById(id).value = ""; document.getElementById("status").className = ""`)
	b.Do(chromedp.SendKeys("#password", password), chromedp.SendKeys("#confirm", confirm), chromedp.Click("#send"))
}

// TestResetPasswordInTheBrowser follows the email's link in Chromium:
// the page takes the token from the fragment and clears it from the
// address bar, refuses two different passwords before sending anything,
// shows the API's problem for a weak one, sets a good one, and the new
// password signs in. The token never appears in a URL the browser
// requested, so no access log can hold it, and the page loads nothing
// from elsewhere and breaks no rule of its Content-Security-Policy.
func TestResetPasswordInTheBrowser(t *testing.T) {
	testkit.ChromiumPath(t)
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		box := testkit.StartMailbox(t)
		app := apptest.Start(t, db, testkit.WithMailbox(box), testkit.WithConfig(func(c *config.Config) { c.HTTP.PublicURL = publicURL }))
		u := app.NewUser(false)
		app.Do(http.MethodPost, "/api/auth/password-recovery", map[string]string{"email": u.Email}).Expect(http.StatusAccepted)
		link := linkIn(t, box.WaitTo(u.Email, 1)[0].Body, app.URL)
		_, token, _ := strings.Cut(link, "#token=")

		b := testkit.NewBrowser(t, 900, 700)
		b.Open(link)
		if got := testkit.Eval[string](b, `location.href`); got != app.URL+"/reset-password" {
			t.Fatalf("the address bar still holds the token: %s", got)
		}

		fill(b, "a passphrase 新しい 7", "a passphrase 新しい 8")
		if class, text := status(t, b); class != "error" || !strings.Contains(text, "differ") {
			t.Fatalf("different passwords: %s %q", class, text)
		}
		fill(b, "short", "short")
		if class, text := status(t, b); class != "error" || !strings.HasPrefix(text, "The new password must be at least") {
			t.Fatalf("a weak password shows the API's problem: %s %q", class, text)
		}
		const chosen = "a new passphrase 新しい 7"
		fill(b, chosen, chosen)
		if class, text := status(t, b); class != "done" || !strings.Contains(text, "Sign in") {
			t.Fatalf("a good password: %s %q\nconsole:\n%s", class, text, strings.Join(b.Console(), "\n"))
		}
		app.Login(u.Email, chosen)

		host := strings.TrimPrefix(app.URL, "http://")
		if off := b.OffHost(host); len(off) != 0 {
			t.Errorf("the page requested other hosts: %v", off)
		}
		for _, r := range b.Requests() {
			if strings.Contains(r, token) || strings.Contains(r, url.QueryEscape(token)) {
				t.Errorf("the token was in a requested URL: %s", r)
			}
		}
		for _, line := range b.Console() {
			if strings.Contains(line, "Content Security Policy") || strings.Contains(line, "exception") {
				t.Errorf("console: %s", line)
			}
		}
	})
}

// TestResetPageWithoutAUsableToken: a link whose token was cut off says
// so without showing the form; a used token gets the API's refusal; an
// older release's link (?token=) still works.
func TestResetPageWithoutAUsableToken(t *testing.T) {
	testkit.ChromiumPath(t)
	db := testkit.NewDB(t, "sqlite3")
	box := testkit.StartMailbox(t)
	app := apptest.Start(t, db, testkit.WithMailbox(box), testkit.WithConfig(func(c *config.Config) { c.HTTP.PublicURL = publicURL }))
	b := testkit.NewBrowser(t, 900, 700)

	b.Open(app.URL + "/reset-password")
	if hidden := testkit.Eval[bool](b, `document.getElementById("form").hidden`); !hidden {
		t.Error("the form shows without a token")
	}
	if text := testkit.Eval[string](b, `document.getElementById("status").textContent`); !strings.Contains(text, "incomplete") {
		t.Errorf("no token: %q", text)
	}

	// A new document each time: a change of fragment alone does not reload.
	b.Do(chromedp.Navigate("about:blank"))
	b.Open(app.URL + "/reset-password#token=not-a-token")
	fill(b, "a good long passphrase", "a good long passphrase")
	if class, text := status(t, b); class != "error" || text == "" {
		t.Errorf("a bad token: %s %q", class, text)
	}

	u := app.NewUser(false)
	app.Do(http.MethodPost, "/api/auth/password-recovery", map[string]string{"email": u.Email}).Expect(http.StatusAccepted)
	link := linkIn(t, box.WaitTo(u.Email, 1)[0].Body, app.URL)
	b.Do(chromedp.Navigate("about:blank"))
	b.Open(strings.Replace(link, "#token=", "?token=", 1))
	if got := testkit.Eval[string](b, `location.href`); got != app.URL+"/reset-password" {
		t.Fatalf("the address bar still holds the token: %s", got)
	}
	fill(b, "an older link's passphrase", "an older link's passphrase")
	if class, text := status(t, b); class != "done" {
		t.Fatalf("an older release's link: %s %q", class, text)
	}
	app.Login(u.Email, "an older link's passphrase")
}

// TestPagesAnswerWithTheirPolicy: the page and its assets, as a client
// without a browser sees them.
func TestPagesAnswerWithTheirPolicy(t *testing.T) {
	app := apptest.Start(t, testkit.NewDB(t, "sqlite3"))
	res := app.Do(http.MethodGet, "/reset-password", nil).Expect(http.StatusOK)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("content type %q", ct)
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || res.Header.Get("Cache-Control") != "no-store" || res.Header.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("headers: %v", res.Header)
	}
	if js := app.Do(http.MethodGet, "/auth-pages/pages.js", nil).Expect(http.StatusOK); !strings.HasPrefix(js.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("script type %q", js.Header.Get("Content-Type"))
	}
	app.Do(http.MethodGet, "/auth-pages/pages.go", nil).Expect(http.StatusNotFound)
	app.Do(http.MethodGet, "/auth-pages/..%2fpages.go", nil).Expect(http.StatusNotFound)
}
