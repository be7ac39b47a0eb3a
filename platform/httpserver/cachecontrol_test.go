package httpserver_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// TestAuthenticatedResponsesAreNoStore walks the OpenAPI document of the
// real application: every operation that declares security answers with
// Cache-Control: no-store (ASVS 5.0 V14.3.2), signed in or not, success or
// error. Genuinely public documents keep their own policy.
func TestAuthenticatedResponsesAreNoStore(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		var doc struct {
			Paths map[string]map[string]struct {
				OperationID string                `json:"operationId"`
				Security    []map[string][]string `json:"security"`
			} `json:"paths"`
		}
		app.Do(http.MethodGet, "/openapi.json", nil).Expect(http.StatusOK).JSON(t, &doc)
		var ops, ok2xx int
		for path, item := range doc.Paths {
			for method, op := range item {
				if len(op.Security) == 0 {
					continue
				}
				ops++
				concrete := strings.ReplaceAll(path, "{id}", uuid.NewString())
				var body any
				if method == "post" || method == "patch" || method == "put" {
					body = map[string]any{}
				}
				m := strings.ToUpper(method)
				// Each call gets a fresh superuser, so logout-all cannot
				// sign the next one out.
				u := app.NewUser(true)
				for _, res := range []*testkit.Response{
					app.Do(m, concrete, body),                          // 401
					app.Do(m, concrete, body, testkit.Bearer(u.Token)), // whatever the operation answers
				} {
					if got := res.Header.Get("Cache-Control"); got != "no-store" {
						t.Errorf("%s %s (%s) -> %d with Cache-Control %q, want no-store", m, path, op.OperationID, res.Status, got)
					}
					if res.Status < 300 {
						ok2xx++
					}
				}
			}
		}
		if ops < 10 || ok2xx < 3 {
			t.Fatalf("walked %d secured operations, %d successes: the walk did not exercise the API", ops, ok2xx)
		}

		// Errors outside any operation, and the token endpoint.
		for _, res := range []*testkit.Response{
			app.Do(http.MethodGet, "/api/no-such-route", nil),
			app.Do(http.MethodPost, "/api/auth/login", "{}"),
		} {
			if got := res.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("%d response: Cache-Control %q", res.Status, got)
			}
		}

		// Public documents choose their own policy.
		for path, want := range map[string]string{
			"/.well-known/jwks.json":         "public, max-age=60",
			"/openapi.json":                  "public, max-age=60",
			"/docs":                          "public, max-age=60",
			"/docs/assets/swagger-ui.css":    "public, max-age=3600",
			"/docs/assets/no-such-asset.css": "no-store",
		} {
			res := app.Do(http.MethodGet, path, nil)
			if got := res.Header.Get("Cache-Control"); got != want {
				t.Errorf("GET %s -> %d with Cache-Control %q, want %q", path, res.Status, got, want)
			}
		}
		var jwks json.RawMessage
		app.Do(http.MethodGet, "/.well-known/jwks.json", nil).Expect(http.StatusOK).JSON(t, &jwks)
	})
}
