package jobsui_test

import (
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/jobs/jobsui"
	"github.com/acme/monolith/platform/testkit"
)

// noRedirect sees the session's 303 and its cookie itself.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// reply is a response, read and closed.
type reply struct {
	StatusCode int
	Header     http.Header
	cookies    []*http.Cookie
}

func (r reply) Cookies() []*http.Cookie { return r.cookies }

func send(t *testing.T, method, u string, body io.Reader, headers ...testkit.Header) (reply, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		req.Header.Set(h.Key, h.Value)
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	b, _ := io.ReadAll(res.Body)
	return reply{StatusCode: res.StatusCode, Header: res.Header, cookies: res.Cookies()}, string(b)
}

// TestJobsUIForAdminsOnly: the UI and its API answer 401 without
// credentials (a browser gets the sign-in form), 403 to an account
// without jobs:admin, and serve the page and the API to a holder; the
// session exchange sets an HttpOnly, SameSite=Strict cookie scoped to the
// UI that works in place of the header, refuses a non-holder's token, and
// cross-site requests are refused. Both databases.
func TestJobsUIForAdminsOnly(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		admin := app.SuperuserToken()
		holder := app.NewUserWith(jobsui.Permission.Name).Token
		other := app.NewUser(false).Token
		page, api := jobsui.Prefix+"/", jobsui.Prefix+"/api/jobs?state=available"

		for _, path := range []string{page, api, jobsui.Prefix + "/api/queues"} {
			if p := app.Do(http.MethodGet, path, nil).Expect(http.StatusUnauthorized).Problem(t); p.Code != "missing_token" {
				t.Errorf("anonymous %s: code %s", path, p.Code)
			}
			if p := app.Do(http.MethodGet, path, nil, testkit.Bearer(other)).Expect(http.StatusForbidden).Problem(t); p.Code != "permission_required" {
				t.Errorf("non-admin %s: code %s", path, p.Code)
			}
			app.Do(http.MethodGet, path, nil, testkit.Bearer("not-a-token")).Expect(http.StatusUnauthorized)
		}
		res := app.Do(http.MethodGet, page, nil, testkit.Header{Key: "Accept", Value: "text/html"}).Expect(http.StatusUnauthorized)
		if !strings.Contains(string(res.Body), `action="`+jobsui.SessionPath+`"`) {
			t.Errorf("a browser without credentials gets no sign-in form: %s", res.Body)
		}

		for name, tok := range map[string]string{"superuser": admin, "jobs:admin holder": holder} {
			res := app.Do(http.MethodGet, page, nil, testkit.Bearer(tok)).Expect(http.StatusOK)
			if !strings.Contains(string(res.Body), "config__json") || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
				t.Errorf("%s: the UI page is not served: %s", name, res.Body)
			}
			if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
				t.Errorf("%s: CSP %q", name, csp)
			}
			var list struct {
				Data []any `json:"data"`
			}
			app.Do(http.MethodGet, api, nil, testkit.Bearer(tok)).Expect(http.StatusOK).JSON(t, &list)
		}

		// The browser's way in: the form posts the token, the cookie carries it.
		form := func(tok string) io.Reader { return strings.NewReader(url.Values{"token": {tok}}.Encode()) }
		formCT := testkit.Header{Key: "Content-Type", Value: "application/x-www-form-urlencoded"}
		r, _ := send(t, http.MethodPost, app.URL+jobsui.SessionPath, form(admin), formCT)
		if r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != jobsui.Prefix+"/" {
			t.Fatalf("session: %d, Location %q", r.StatusCode, r.Header.Get("Location"))
		}
		var cookie *http.Cookie
		for _, c := range r.Cookies() {
			if c.Name == jobsui.CookieName {
				cookie = c
			}
		}
		if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != jobsui.Prefix || cookie.MaxAge <= 0 || cookie.MaxAge > 900 {
			t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=%s, at most 15 minutes", cookie, jobsui.Prefix)
		}
		withCookie := testkit.Header{Key: "Cookie", Value: cookie.Name + "=" + cookie.Value}
		if r, body := send(t, http.MethodGet, app.URL+api, nil, withCookie); r.StatusCode != http.StatusOK {
			t.Errorf("the API with the cookie: %d %s", r.StatusCode, body)
		}
		if r, _ := send(t, http.MethodGet, app.URL+api, nil, withCookie, testkit.Header{Key: "Sec-Fetch-Site", Value: "cross-site"}); r.StatusCode != http.StatusForbidden {
			t.Errorf("a cross-site request with the cookie: %d, want 403", r.StatusCode)
		}
		if r, _ := send(t, http.MethodGet, app.URL+api, nil, testkit.Header{Key: "Cookie", Value: jobsui.CookieName + "=" + other}); r.StatusCode != http.StatusForbidden {
			t.Errorf("a non-admin's token in the cookie: %d, want 403", r.StatusCode)
		}
		if r, _ := send(t, http.MethodPost, app.URL+jobsui.SessionPath, form(other), formCT); r.StatusCode != http.StatusForbidden || len(r.Cookies()) != 0 {
			t.Errorf("session for a non-admin: %d, cookies %v", r.StatusCode, r.Cookies())
		}
		if r, _ := send(t, http.MethodPost, app.URL+jobsui.SessionPath, form(admin), formCT, testkit.Header{Key: "Sec-Fetch-Site", Value: "cross-site"}); r.StatusCode != http.StatusForbidden || len(r.Cookies()) != 0 {
			t.Errorf("a cross-site session post: %d, cookies %v", r.StatusCode, r.Cookies())
		}
		if r, _ := send(t, http.MethodPost, app.URL+jobsui.SessionPath, form(strings.Repeat("ü", 5000)), formCT); r.StatusCode >= 500 || r.StatusCode == http.StatusSeeOther {
			t.Errorf("an oversized multibyte token: %d", r.StatusCode)
		}
	})
}

// TestJobsUIInTheBrowser: in Chromium, an admin opens the UI, gets the
// sign-in form, pastes a token, and River UI renders under the UI's CSP,
// calling its API with the cookie, with nothing loaded from elsewhere.
func TestJobsUIInTheBrowser(t *testing.T) {
	testkit.ChromiumPath(t)
	app := apptest.Start(t, testkit.NewDB(t, "sqlite3"))
	b := testkit.NewBrowser(t, 1200, 800)
	b.Do(chromedp.Navigate(app.URL+jobsui.Prefix+"/"), chromedp.WaitVisible("#token"))
	b.Do(chromedp.SendKeys("#token", app.SuperuserToken()), chromedp.Click("#open"))
	rendered := `location.pathname.startsWith("` + jobsui.Prefix + `/") && !document.getElementById("token") && document.body.innerText.includes("Jobs")`
	calledAPI := func() bool {
		for _, r := range b.Requests() {
			if strings.Contains(r, jobsui.Prefix+"/api/") {
				return true
			}
		}
		return false
	}
	// Polled by hand: the form's submission navigates, which ends a
	// chromedp poll.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		ok, err := chromedp.Run(b.Ctx, chromedp.Evaluate[bool](rendered))
		if err == nil && ok && calledAPI() {
			break
		}
		if time.Now().After(deadline) {
			text, _ := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("River UI did not render and call its API: %v\n%s\nrequests %v\nconsole:\n%s", err, text, b.Requests(), strings.Join(b.Console(), "\n"))
		}
	}
	host := strings.TrimPrefix(app.URL, "http://")
	if off := b.OffHost(host); len(off) != 0 {
		t.Errorf("the UI requested other hosts: %v", off)
	}
	// The sign-in form itself is a 401; nothing after it may be refused.
	for i, line := range b.Console() {
		if strings.Contains(line, "Content Security Policy") || (i > 0 && (strings.Contains(line, "401") || strings.Contains(line, "403"))) {
			t.Errorf("console: %s", line)
		}
	}
}

// uiStarts counts River UI handlers whose background services run in this
// process (each started handler keeps one goroutine in Start).
func uiStarts() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "riverqueue.com/riverui.(*Handler).Start.func1(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// TestJobsUIIsBuiltOnFirstUse: River UI is not built when the application
// starts, nor for a request the guard refuses; concurrent first requests
// of admins build and start it once, and every one of them is served.
func TestJobsUIIsBuiltOnFirstUse(t *testing.T) {
	app := apptest.Start(t, testkit.NewDB(t, "sqlite3"))
	admin, other := app.SuperuserToken(), app.NewUser(false).Token
	api := jobsui.Prefix + "/api/jobs?state=available"
	app.Do(http.MethodGet, api, nil).Expect(http.StatusUnauthorized)
	app.Do(http.MethodGet, api, nil, testkit.Bearer(other)).Expect(http.StatusForbidden)
	// Not parallel: no other test's application runs meanwhile.
	if n := uiStarts(); n != 0 {
		t.Fatalf("River UI started %d times before an admin asked for it", n)
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			if r := app.Do(http.MethodGet, api, nil, testkit.Bearer(admin)); r.Status != http.StatusOK {
				t.Errorf("a first request: %d %s", r.Status, r.Body)
			}
		})
	}
	wg.Wait()
	// Start's goroutine may still be on its way to its wait.
	for deadline := time.Now().Add(10 * time.Second); uiStarts() != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("River UI started %d times for 16 concurrent first requests, want 1", uiStarts())
		}
	}
}
