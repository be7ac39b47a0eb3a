package httpserver_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"
	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/testkit"
)

// strictBody breaks one rule per field.
type strictBody struct {
	Name    string    `json:"name" minLength:"2" maxLength:"4"`
	Kind    string    `json:"kind,omitempty" enum:"a,b"`
	Code    string    `json:"code,omitempty" pattern:"^[a-z]+$"`
	Email   string    `json:"email,omitempty" format:"email"`
	When    string    `json:"when,omitempty" format:"date-time"`
	Ref     string    `json:"ref,omitempty" format:"uuid"`
	Count   int       `json:"count,omitempty" minimum:"1" maximum:"9"`
	Tags    []string  `json:"tags,omitempty" maxItems:"1" nullable:"false"`
	Owner   uuid.UUID `json:"owner,omitempty"`
	Enabled bool      `json:"enabled,omitempty"`
}

type strictRoutes struct{}

func (strictRoutes) Register(api huma.API) {
	huma.Register(api, authn.Public(huma.Operation{OperationID: "strict", Method: http.MethodPost, Path: "/test/strict/{id}"}),
		func(context.Context, *struct {
			ID    uuid.UUID `path:"id"`
			Limit int       `query:"limit" minimum:"1" maximum:"10"`
			Body  strictBody
		}) (*struct{}, error) {
			return nil, nil
		})
}

// TestEveryFieldErrorHasACode: each rule a field can break in huma's
// validation answers 422 validation_failed with an errors[] entry naming
// the field and the rule's own code; malformed JSON, a missing body and a
// media type huma cannot decode each have their own top-level code; and
// one condition always has one detail, whoever raised it.
func TestEveryFieldErrorHasACode(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db, testkit.WithFx(fx.Provide(httpserver.AsRoutes(func() strictRoutes { return strictRoutes{} }))))
		ok := "/test/strict/" + uuid.NewString()
		cases := []struct {
			name, path, body, location, code string
		}{
			{"required", ok, `{}`, "body.name", "required"},
			{"too-short", ok, `{"name":"x"}`, "body.name", "too_short"},
			{"too-long-multibyte", ok, `{"name":"名前です!"}`, "body.name", "too_long"},
			{"enum", ok, `{"name":"ok","kind":"c"}`, "body.kind", "enum"},
			{"pattern", ok, `{"name":"ok","code":"ABC"}`, "body.code", "pattern"},
			{"email", ok, `{"name":"ok","email":"nope"}`, "body.email", "format_email"},
			{"date-time", ok, `{"name":"ok","when":"yesterday"}`, "body.when", "format_date_time"},
			{"uuid-string", ok, `{"name":"ok","ref":"x"}`, "body.ref", "format_uuid"},
			{"uuid-type", ok, `{"name":"ok","owner":"x"}`, "body.owner", "format_uuid"},
			{"minimum", ok, `{"name":"ok","count":0}`, "body.count", "below_minimum"},
			{"maximum", ok, `{"name":"ok","count":10}`, "body.count", "above_maximum"},
			{"max-items", ok, `{"name":"ok","tags":["a","b"]}`, "body.tags", "too_many_items"},
			{"type", ok, `{"name":5}`, "body.name", "invalid_type"},
			{"type-bool", ok, `{"name":"ok","enabled":"yes"}`, "body.enabled", "invalid_type"},
			{"unexpected", ok, `{"name":"ok","admin":true}`, "body.admin", "unexpected_property"},
			{"not-an-object", ok, `[]`, "body", "invalid_type"},
			{"path-uuid", "/test/strict/me", `{"name":"ok"}`, "path.id", "format_uuid"},
			{"query-integer", ok + "?limit=x", `{"name":"ok"}`, "query.limit", "invalid_type"},
			{"query-maximum", ok + "?limit=11", `{"name":"ok"}`, "query.limit", "above_maximum"},
		}
		details := map[string]bool{}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				res := app.Do(http.MethodPost, c.path, c.body)
				if res.Status != http.StatusUnprocessableEntity {
					t.Fatalf("%d %s", res.Status, res.Body)
				}
				p := res.Problem(t)
				details[p.Detail] = true
				if p.Code != "validation_failed" {
					t.Errorf("code %q", p.Code)
				}
				found := false
				for _, e := range p.Errors {
					if e.Code == "" {
						t.Errorf("field error without a code: %+v", e)
					}
					if e.Location == c.location && e.Code == c.code {
						found = true
					}
				}
				if !found {
					t.Errorf("no %s on %s in %s", c.code, c.location, res.Body)
				}
			})
		}
		if len(details) != 1 {
			t.Errorf("validation_failed has %d details: %v", len(details), details)
		}

		// Every failing field at once, each with its code.
		res := app.Do(http.MethodPost, ok, `{"name":"x","kind":"c","email":"nope","count":0}`)
		if p := res.Problem(t); len(p.Errors) != 4 {
			t.Errorf("four failing fields reported as %s", res.Body)
		}

		// Body-level conditions, each with its own code and one detail.
		for _, c := range []struct {
			name, contentType, body string
			status                  int
			code                    string
		}{
			{"malformed-json", "application/json", `{"name":`, 400, "malformed_json"},
			{"malformed-json-again", "application/json", `{"name" "x"}`, 400, "malformed_json"},
			{"body-required", "application/json", ``, 400, "body_required"},
			{"wrong-media-type", "text/plain", `{"name":"ok"}`, 415, "unsupported_media_type"},
			{"wrong-media-type-again", "application/xml", `<name/>`, 415, "unsupported_media_type"},
		} {
			req, _ := http.NewRequest(http.MethodPost, app.URL+ok, strings.NewReader(c.body))
			req.Header.Set("Content-Type", c.contentType)
			hres, err := app.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body := make([]byte, 4096)
			n, _ := hres.Body.Read(body)
			_ = hres.Body.Close()
			r := &testkit.Response{Status: hres.StatusCode, Header: hres.Header, Body: body[:n]}
			if r.Status != c.status {
				t.Errorf("%s: %d %s", c.name, r.Status, r.Body)
				continue
			}
			p := r.Problem(t)
			if p.Code != c.code {
				t.Errorf("%s: code %q, want %q (%s)", c.name, p.Code, c.code, r.Body)
			}
			if strings.Contains(p.Detail, c.contentType) || strings.Contains(p.Detail, "validation failed") {
				t.Errorf("%s: the detail quotes the request or huma's message: %q", c.name, p.Detail)
			}
			details[c.code+p.Detail] = true
		}
		if len(details) != 1+3 {
			t.Errorf("one detail per code expected, got %v", details)
		}
	})
}
