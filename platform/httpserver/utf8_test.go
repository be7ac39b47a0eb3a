package httpserver_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// badText is text that is not Unicode, as raw bytes and as JSON escapes:
// JSON decoders replace each with U+FFFD without a word (RFC 8259 §8.1,
// §8.2), which is how "\xff" used to be stored as "�".
var badText = map[string]string{
	"invalid-byte":          "a\xffb",
	"truncated-sequence":    "caf\xc3",
	"overlong-slash":        "\xc0\xaf",
	"overlong-nul":          "\xc0\x80",
	"raw-lone-surrogate":    "x\xed\xa0\x80y",
	"escaped-lone-high":     `\ud800`,
	"escaped-lone-low":      `\udc00`,
	"escaped-high-then-not": `\ud83dA`,
	"escaped-reversed-pair": `\ude42\ud83d`,
}

// TestInvalidUTF8IsRefused: a JSON body, a form body or a query parameter
// that is not valid UTF-8 is refused with 400 (code invalid_utf8) before
// any handler runs, on register, profile update and admin create, and
// nothing reaches the database. The token endpoint answers in RFC 6749
// form. Control: valid multibyte text and an escaped surrogate pair are
// stored exactly.
func TestInvalidUTF8IsRefused(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		u := app.NewUser(false)
		const before = "Before Name"
		app.Do(http.MethodPatch, "/api/users/me", map[string]any{"full_name": before}, testkit.Bearer(u.Token)).Expect(http.StatusOK)
		root := testkit.Bearer(app.SuperuserToken())
		users := countUsers(t, app)

		n := 0
		for name, bad := range badText {
			t.Run(name, func(t *testing.T) {
				n++
				email := "utf8-" + strconv.Itoa(n) + "@example.test"
				for _, req := range []struct {
					what, method, path, body string
					auth                     []testkit.Header
				}{
					{"register full_name", http.MethodPost, "/api/auth/register", `{"email":"` + email + `","password":"long enough pw","full_name":"` + bad + `"}`, nil},
					{"register email", http.MethodPost, "/api/auth/register", `{"email":"` + bad + email + `","password":"long enough pw"}`, nil},
					{"update-me", http.MethodPatch, "/api/users/me", `{"full_name":"` + bad + `"}`, []testkit.Header{testkit.Bearer(u.Token)}},
					{"create-user", http.MethodPost, "/api/users", `{"email":"` + email + `","password":"long enough pw","full_name":"` + bad + `"}`, []testkit.Header{root}},
				} {
					res := app.Do(req.method, req.path, req.body, req.auth...)
					if res.Status != http.StatusBadRequest {
						t.Errorf("%s: %d %s", req.what, res.Status, res.Body)
						continue
					}
					if p := res.Problem(t); p.Code != "invalid_utf8" {
						t.Errorf("%s: code %q", req.what, p.Code)
					}
				}
			})
		}
		if got := countUsers(t, app); got != users {
			t.Errorf("users: %d before, %d after the refused requests", users, got)
		}
		for email, name := range fullNames(t, app) {
			if !utf8.ValidString(name) || strings.ContainsRune(name, utf8.RuneError) {
				t.Errorf("stored full name of %s: %q", email, name)
			}
			if email == u.Email && name != before {
				t.Errorf("update-me changed the name to %q", name)
			}
		}

		// Form bodies are checked after percent-decoding, query parameters
		// after decoding; the OAuth endpoints answer RFC 6749 errors.
		for _, body := range []string{
			"grant_type=password&username=" + url.QueryEscape(u.Email) + "&password=%FF%FE",
			"grant_type=password&username=%C0%AF&password=x",
			"grant_type=password&username=a&password=raw\xffbyte",
		} {
			res := app.Do(http.MethodPost, "/api/auth/login", []byte(body), testkit.Header{Key: "Content-Type", Value: "application/x-www-form-urlencoded"})
			if res.Status != http.StatusBadRequest || res.Header.Get("Content-Type") != "application/json" ||
				!strings.Contains(string(res.Body), `"error":"invalid_request"`) {
				t.Errorf("token endpoint with %q: %d %s %s", body, res.Status, res.Header.Get("Content-Type"), res.Body)
			}
		}
		if res := app.Do(http.MethodPost, "/api/auth/revoke", []byte("token=%ED%A0%80"), testkit.Header{Key: "Content-Type", Value: "application/x-www-form-urlencoded"}); res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), `"error":"invalid_request"`) {
			t.Errorf("revoke: %d %s", res.Status, res.Body)
		}
		for _, q := range []string{"?limit=%FF", "?x%C3=1", "?limit=10&note=%ED%A0%80"} {
			res := app.Do(http.MethodGet, "/api/users"+q, nil, root)
			if res.Status != http.StatusBadRequest || res.Problem(t).Code != "invalid_utf8" {
				t.Errorf("query %s: %d %s", q, res.Status, res.Body)
			}
		}

		// Control: real text, raw and escaped, is stored as sent.
		for raw, want := range map[string]string{
			"名前 é 🙂":       "名前 é 🙂",
			`\ud83d\ude42`: "🙂",
			`\ufffd`:       "\ufffd",
		} {
			res := app.Do(http.MethodPatch, "/api/users/me", `{"full_name":"`+raw+`"}`, testkit.Bearer(u.Token))
			var me struct {
				FullName string `json:"full_name"`
			}
			res.Expect(http.StatusOK).JSON(t, &me)
			if me.FullName != want {
				t.Errorf("stored %q for %q", me.FullName, raw)
			}
		}
	})
}

func countUsers(t *testing.T, app *apptest.App) int {
	t.Helper()
	var n int
	if err := app.DB.SQL.QueryRow(`SELECT count(*) FROM users`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func fullNames(t *testing.T, app *apptest.App) map[string]string {
	t.Helper()
	rows, err := app.DB.SQL.Query(`SELECT email, full_name FROM users`)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	out := map[string]string{}
	for rows.Next() {
		var e, n string
		if err := rows.Scan(&e, &n); err != nil {
			t.Fatal(err)
		}
		out[e] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
