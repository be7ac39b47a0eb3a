package authpages_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/config"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// linkTo is the link to path in a mail, moved to the test's server.
func linkTo(t *testing.T, body, path, server string) string {
	t.Helper()
	for line := range strings.SplitSeq(body, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), publicURL+path+"#token="); ok {
			return server + path + "#token=" + rest
		}
	}
	t.Fatalf("no %s link in:\n%s", path, body)
	return ""
}

// clickThrough opens link in a fresh document, checks the token left the
// address bar, presses the page's one button and returns its answer.
func clickThrough(t *testing.T, b *testkit.Browser, link, path, server string) (string, string) {
	t.Helper()
	b.Do(chromedp.Navigate("about:blank"))
	b.Open(link)
	if got := testkit.Eval[string](b, `location.href`); got != server+path {
		t.Fatalf("the address bar still holds the token: %s", got)
	}
	b.Do(chromedp.Click("#send"))
	return status(t, b)
}

// TestEmailLinksInTheBrowser follows, in Chromium, the verification link
// of a signup's mail (the account then signs in, which verification
// required forbade before) and the confirmation link of an email change
// (the new address then signs in, the old one no longer). Opening a used
// link again shows the API's refusal. As for the reset page: the token is
// in no requested URL, nothing loads from elsewhere, the CSP holds.
func TestEmailLinksInTheBrowser(t *testing.T) {
	testkit.ChromiumPath(t)
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		box := testkit.StartMailbox(t)
		app := apptest.Start(t, db, testkit.WithMailbox(box), testkit.WithEnv("EMAIL_VERIFICATION", "required"),
			testkit.WithConfig(func(c *config.Config) { c.HTTP.PublicURL = publicURL }))
		b := testkit.NewBrowser(t, 900, 700)

		const email, pw = "browser.ünïcode@example.test", "a browser passphrase 7"
		app.Do(http.MethodPost, "/api/auth/register", map[string]string{"email": email, "password": pw}).Expect(http.StatusAccepted)
		verify := linkTo(t, box.WaitTo(email, 1)[0].Body, "/verify-email", app.URL)
		if class, text := clickThrough(t, b, verify, "/verify-email", app.URL); class != "done" || !strings.Contains(text, "verified") {
			t.Fatalf("verification page: %s %q\nconsole:\n%s", class, text, strings.Join(b.Console(), "\n"))
		}
		token := app.Login(email, pw)
		if class, text := clickThrough(t, b, verify, "/verify-email", app.URL); class != "error" || !strings.Contains(text, "invalid or expired") {
			t.Fatalf("a used verification link: %s %q", class, text)
		}

		const next = "browser.moved@example.test"
		app.Do(http.MethodPatch, "/api/users/me", map[string]string{"email": next, "current_password": pw}, testkit.Bearer(token)).Expect(http.StatusOK)
		confirm := linkTo(t, box.WaitTo(next, 1)[0].Body, "/confirm-email", app.URL)
		if class, text := clickThrough(t, b, confirm, "/confirm-email", app.URL); class != "done" || !strings.Contains(text, "new address") {
			t.Fatalf("confirmation page: %s %q\nconsole:\n%s", class, text, strings.Join(b.Console(), "\n"))
		}
		app.Login(next, pw)
		if res := app.Do(http.MethodPost, "/api/auth/login", url.Values{"grant_type": {"password"}, "username": {email}, "password": {pw}}); res.Status != http.StatusBadRequest {
			t.Fatalf("the old address still signs in: %d", res.Status)
		}

		host := strings.TrimPrefix(app.URL, "http://")
		if off := b.OffHost(host); len(off) != 0 {
			t.Errorf("the pages requested other hosts: %v", off)
		}
		for _, link := range []string{verify, confirm} {
			_, tok, _ := strings.Cut(link, "#token=")
			for _, r := range b.Requests() {
				if strings.Contains(r, tok) || strings.Contains(r, url.QueryEscape(tok)) {
					t.Errorf("a token was in a requested URL: %s", r)
				}
			}
		}
		for _, line := range b.Console() {
			if strings.Contains(line, "Content Security Policy") || strings.Contains(line, "exception") {
				t.Errorf("console: %s", line)
			}
		}
	})
}
