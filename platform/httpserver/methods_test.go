package httpserver_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// TestWrongMethodsAnswer405WithTheirRoutesAllow sends every path of the
// OpenAPI document, and the server's own routes, each method it lacks:
// 405 problem JSON whose Allow lists exactly the methods of that path.
// /api/users/me is the case that was wrong: fiber listed the methods of
// every route matching the path, /api/users/{id}'s DELETE included, and
// DELETE /api/users/me reached delete-user.
func TestWrongMethodsAnswer405WithTheirRoutesAllow(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		var doc struct {
			Paths map[string]map[string]any `json:"paths"`
		}
		app.Do(http.MethodGet, "/openapi.json", nil).JSON(t, &doc)
		routes := map[string][]string{
			"/livez": {"GET", "HEAD"}, "/readyz": {"GET", "HEAD"}, "/docs": {"GET", "HEAD"},
			"/docs/init.js": {"GET", "HEAD"}, "/openapi.json": {"GET"}, "/openapi.yaml": {"GET"},
		}
		for path, ops := range doc.Paths {
			for m := range ops {
				routes[path] = append(routes[path], strings.ToUpper(m))
			}
		}
		if len(doc.Paths) < 10 {
			t.Fatalf("the document lists %d paths", len(doc.Paths))
		}
		order := []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"}
		superuser := testkit.Bearer(app.SuperuserToken())
		checked := 0
		for path, methods := range routes {
			slices.SortFunc(methods, func(a, b string) int { return slices.Index(order, a) - slices.Index(order, b) })
			want := strings.Join(methods, ", ")
			target := strings.ReplaceAll(path, "{id}", "0b9a2c1e-6f0d-4d55-9a3e-2f6b0c8d7e11")
			for _, m := range order {
				if slices.Contains(methods, m) {
					continue
				}
				// Signed in as a superuser, so that a request reaching a
				// handler by mistake would not stop at 401.
				res := app.Do(m, target, nil, superuser)
				if res.Status != http.StatusMethodNotAllowed {
					t.Errorf("%s %s: %d, want 405 (%s)", m, target, res.Status, res.Body)
					continue
				}
				if got := res.Header.Get("Allow"); got != want {
					t.Errorf("%s %s: Allow %q, want %q", m, target, got, want)
				}
				if m != http.MethodHead {
					if p := res.Problem(t); p.Code != "method_not_allowed" {
						t.Errorf("%s %s: code %q", m, target, p.Code)
					}
				}
				checked++
			}
		}
		t.Logf("%d wrong-method requests over %d routes", checked, len(routes))

		// Routing ignores case and a trailing slash; so does Allow.
		for _, target := range []string{"/API/Users/ME", "/api/users/me/"} {
			res := app.Do(http.MethodPut, target, nil)
			if res.Status != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, PATCH" {
				t.Errorf("PUT %s: %d Allow %q", target, res.Status, res.Header.Get("Allow"))
			}
		}
		// The methods a route has still reach it, concrete and templated.
		app.Do(http.MethodGet, "/api/users/me", nil, superuser).Expect(http.StatusOK)
		app.Do(http.MethodGet, "/api/users/0b9a2c1e-6f0d-4d55-9a3e-2f6b0c8d7e11", nil, superuser).Expect(http.StatusNotFound)
		// A method nobody routes is 501 problem JSON (fiber's own answer
		// was a plain-text 400), with the security headers.
		for _, m := range []string{"FOO", "PROPFIND", "get"} {
			res := app.Do(m, "/api/users/me", nil)
			if res.Status != http.StatusNotImplemented || res.Problem(t).Code != "not_implemented" ||
				res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s /api/users/me: %d %v %s", m, res.Status, res.Header, res.Body)
			}
		}
		// A path no route addresses stays a 404, whatever the method.
		if res := app.Do(http.MethodPut, "/api/users/me/nothing", nil); res.Status != http.StatusNotFound {
			t.Errorf("PUT /api/users/me/nothing: %d", res.Status)
		}
	})
}
