package userapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

type user struct {
	ID          uuid.UUID `json:"id"`
	Email       string    `json:"email"`
	FullName    string    `json:"full_name"`
	IsActive    bool      `json:"is_active"`
	IsSuperuser bool      `json:"is_superuser"`
}

func TestSelfServiceFlow(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)

		// register-201: the email is stored lower-cased.
		res := app.Do(http.MethodPost, "/api/auth/register", map[string]string{
			"email": "Ada@Example.test", "password": "first passphrase", "full_name": "Ada",
		})
		if res.Status != http.StatusCreated {
			t.Fatalf("register: %d %s", res.Status, res.Body)
		}
		var u user
		res.JSON(t, &u)
		if u.Email != "ada@example.test" || u.FullName != "Ada" || !u.IsActive || u.IsSuperuser {
			t.Fatalf("registered user = %+v", u)
		}

		// register-409: uniqueness ignores case.
		res = app.Do(http.MethodPost, "/api/auth/register", map[string]string{"email": "ADA@example.test", "password": "another passphrase"})
		if p := expectProblem(t, res, http.StatusConflict); p.Code != "email_taken" {
			t.Fatalf("duplicate code = %q", p.Code)
		}

		token := app.Login("ADA@example.test", "first passphrase")

		// me-200
		res = app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(token))
		var me user
		res.JSON(t, &me)
		if res.Status != http.StatusOK || me.ID != u.ID {
			t.Fatalf("me: %d %s", res.Status, res.Body)
		}

		// update-me-200 (a new email needs the current password)
		res = app.Do(http.MethodPatch, "/api/users/me", map[string]string{"full_name": "Ada Lovelace", "email": "ada@lovelace.test", "current_password": "first passphrase"}, testkit.Bearer(token))
		res.JSON(t, &me)
		if res.Status != http.StatusOK || me.FullName != "Ada Lovelace" || me.Email != "ada@lovelace.test" {
			t.Fatalf("update me: %d %s", res.Status, res.Body)
		}

		// change-password-422: wrong current password, named field.
		res = app.Do(http.MethodPost, "/api/users/me/password", map[string]string{"current_password": "not my passphrase", "new_password": "second passphrase"}, testkit.Bearer(token))
		p := expectProblem(t, res, http.StatusUnprocessableEntity)
		if p.Code != "validation_failed" || len(p.Errors) != 1 || p.Errors[0].Location != "body.current_password" || p.Errors[0].Code != "incorrect_password" {
			t.Fatalf("wrong current password problem = %+v", p)
		}

		// change-password-204
		res = app.Do(http.MethodPost, "/api/users/me/password", map[string]string{"current_password": "first passphrase", "new_password": "second passphrase"}, testkit.Bearer(token))
		if res.Status != http.StatusNoContent || len(res.Body) != 0 {
			t.Fatalf("change password: %d %s", res.Status, res.Body)
		}

		// The old password is refused, the new one accepted.
		res = app.Do(http.MethodPost, "/api/auth/login", url.Values{"grant_type": {"password"}, "username": {"ada@lovelace.test"}, "password": {"first passphrase"}})
		if res.Status != http.StatusBadRequest || !strings.Contains(string(res.Body), `"invalid_grant"`) {
			t.Fatalf("old password: %d %s", res.Status, res.Body)
		}
		app.Login("ada@lovelace.test", "second passphrase")
	})
}

func TestSuperuserAdministration(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		root := testkit.Bearer(app.SuperuserToken())

		// create-201
		res := app.Do(http.MethodPost, "/api/users", map[string]any{"email": "bob@example.test", "password": "bob passphrase", "full_name": "Bob"}, root)
		if res.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", res.Status, res.Body)
		}
		var bob user
		res.JSON(t, &bob)
		bobToken := app.Login("bob@example.test", "bob passphrase")

		// get-200 / get-404
		res = app.Do(http.MethodGet, "/api/users/"+bob.ID.String(), nil, root)
		if res.Status != http.StatusOK {
			t.Fatalf("get: %d %s", res.Status, res.Body)
		}
		res = app.Do(http.MethodGet, "/api/users/"+uuid.NewString(), nil, root)
		if p := expectProblem(t, res, http.StatusNotFound); p.Code != "user_not_found" {
			t.Fatalf("unknown id code = %q", p.Code)
		}
		// get-422: a malformed id is a validation error, not a 500.
		res = app.Do(http.MethodGet, "/api/users/not-a-uuid", nil, root)
		expectProblem(t, res, http.StatusUnprocessableEntity)

		// list-200: total when asked, a cursor and a stable order.
		for i := range 3 {
			app.Do(http.MethodPost, "/api/users", map[string]any{"email": fmt.Sprintf("u%d@example.test", i), "password": "listed passphrase"}, root)
		}
		var all struct {
			Items []user `json:"items"`
			Total int    `json:"total"`
			Next  string `json:"next"`
		}
		res = app.Do(http.MethodGet, "/api/users?limit=100&total=true", nil, root)
		res.JSON(t, &all)
		if res.Status != http.StatusOK || all.Total != 5 || len(all.Items) != 5 || all.Next != "" || res.Header.Get("Link") != "" {
			t.Fatalf("list: %d %s", res.Status, res.Body)
		}
		var page struct {
			Items []user `json:"items"`
			Next  string `json:"next"`
		}
		app.Do(http.MethodGet, "/api/users?limit=2", nil, root).JSON(t, &page)
		app.Do(http.MethodGet, "/api/users?limit=2&cursor="+page.Next, nil, root).JSON(t, &page)
		if len(page.Items) != 2 || page.Next == "" ||
			page.Items[0].ID != all.Items[2].ID || page.Items[1].ID != all.Items[3].ID {
			t.Fatalf("page 2 = %+v, all = %+v", page, all.Items)
		}
		res = app.Do(http.MethodGet, "/api/users?limit=0", nil, root)
		if p := expectProblem(t, res, http.StatusUnprocessableEntity); p.Errors[0].Location != "query.limit" {
			t.Fatalf("limit=0 problem = %+v", p)
		}

		// list-403: signed in, without users:read.
		res = app.Do(http.MethodGet, "/api/users", nil, testkit.Bearer(bobToken))
		if p := expectProblem(t, res, http.StatusForbidden); p.Code != "permission_required" || !strings.Contains(p.Detail, "users:read") {
			t.Fatalf("403 = %+v", p)
		}

		// update-200, including the flags.
		res = app.Do(http.MethodPatch, "/api/users/"+bob.ID.String(), map[string]any{"full_name": "Robert", "is_superuser": true}, root)
		res.JSON(t, &bob)
		if res.Status != http.StatusOK || bob.FullName != "Robert" || !bob.IsSuperuser {
			t.Fatalf("update: %d %s", res.Status, res.Body)
		}
		// update-409: taking another account's email.
		res = app.Do(http.MethodPatch, "/api/users/"+bob.ID.String(), map[string]any{"email": "U0@example.test"}, root)
		expectProblem(t, res, http.StatusConflict)

		// Deactivating a user cuts off the token they already hold.
		if res := app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(bobToken)); res.Status != http.StatusOK {
			t.Fatalf("bob before deactivation: %d", res.Status)
		}
		res = app.Do(http.MethodPatch, "/api/users/"+bob.ID.String(), map[string]any{"is_active": false}, root)
		if res.Status != http.StatusOK {
			t.Fatalf("deactivate: %d %s", res.Status, res.Body)
		}
		res = app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(bobToken))
		expectUnauthorized(t, res)

		// A superuser cannot lock themselves out.
		var me user
		app.Do(http.MethodGet, "/api/users/me", nil, root).JSON(t, &me)
		res = app.Do(http.MethodPatch, "/api/users/"+me.ID.String(), map[string]any{"is_superuser": false}, root)
		expectProblem(t, res, http.StatusForbidden)
		res = app.Do(http.MethodDelete, "/api/users/"+me.ID.String(), nil, root)
		expectProblem(t, res, http.StatusForbidden)

		// delete-204, then 404; the deleted user's token stops working.
		res = app.Do(http.MethodDelete, "/api/users/"+bob.ID.String(), nil, root)
		if res.Status != http.StatusNoContent {
			t.Fatalf("delete: %d %s", res.Status, res.Body)
		}
		expectProblem(t, app.Do(http.MethodDelete, "/api/users/"+bob.ID.String(), nil, root), http.StatusNotFound)
		expectUnauthorized(t, app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(bobToken)))
	})
}

func TestBadInput(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		u := app.NewUser(false)
		auth := testkit.Bearer(u.Token)
		cases := []struct {
			name       string
			method     string
			path       string
			body       any
			status     int
			code       string
			locations  []string
			withBearer bool
		}{
			{"register-422-every-field", http.MethodPost, "/api/auth/register", map[string]any{"email": "not-an-email", "password": "short", "full_name": strings.Repeat("x", 256)}, 422, "validation_failed", []string{"body.email", "body.password", "body.full_name"}, false},
			{"register-422-password-too-long", http.MethodPost, "/api/auth/register", map[string]any{"email": "long@example.test", "password": strings.Repeat("p", 129)}, 422, "validation_failed", []string{"body.password"}, false},
			{"register-422-missing-fields", http.MethodPost, "/api/auth/register", map[string]any{}, 422, "validation_failed", []string{"body.email", "body.password"}, false},
			{"register-422-display-name-email", http.MethodPost, "/api/auth/register", map[string]any{"email": "Eve <eve@example.test>", "password": "long enough pw"}, 422, "validation_failed", []string{"body.email"}, false},
			{"register-422-unknown-field", http.MethodPost, "/api/auth/register", map[string]any{"email": "x@example.test", "password": "long enough pw", "is_superuser": true}, 422, "validation_failed", []string{"body.is_superuser"}, false},
			{"register-400-malformed-json", http.MethodPost, "/api/auth/register", `{"email": "x@example.test",`, 400, "malformed_json", nil, false},
			{"register-422-wrong-type", http.MethodPost, "/api/auth/register", `{"email": 42, "password": "long enough pw"}`, 422, "validation_failed", []string{"body.email"}, false},
			{"update-me-422-bad-email", http.MethodPatch, "/api/users/me", map[string]any{"email": "nope", "current_password": u.Password}, 422, "validation_failed", []string{"body.email"}, true},
			{"change-password-422-too-short", http.MethodPost, "/api/users/me/password", map[string]any{"current_password": u.Password, "new_password": "short"}, 422, "validation_failed", []string{"body.new_password"}, true},
			{"change-password-422-same", http.MethodPost, "/api/users/me/password", map[string]any{"current_password": u.Password, "new_password": u.Password}, 422, "validation_failed", []string{"body.new_password"}, true},
			{"unknown-route-404", http.MethodGet, "/api/nothing-here", nil, 404, "not_found", nil, false},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var hs []testkit.Header
				if c.withBearer {
					hs = append(hs, auth)
				}
				res := app.Do(c.method, c.path, c.body, hs...)
				p := expectProblem(t, res, c.status)
				if p.Code != c.code {
					t.Errorf("code = %q, want %q (%s)", p.Code, c.code, res.Body)
				}
				var got []string
				for _, e := range p.Errors {
					got = append(got, e.Location)
				}
				for _, loc := range c.locations {
					if !strings.Contains(strings.Join(got, " "), loc) {
						t.Errorf("errors %v do not name %s", got, loc)
					}
				}
			})
		}
	})
}

// TestFullNameCountsCharacters: the 255-character limit on a full name is
// in characters on every layer (API schema, service, ent validator, the
// Postgres varchar), so a long name in a non-Latin script is stored, not
// refused with a 500; control characters, which Postgres cannot store
// (NUL) or which break display, are a 422.
func TestFullNameCountsCharacters(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		u := app.NewUser(false)
		auth := testkit.Bearer(u.Token)
		for _, name := range []string{strings.Repeat("é", 255), strings.Repeat("名", 255), strings.Repeat("🙂", 255)} {
			res := app.Do(http.MethodPatch, "/api/users/me", map[string]any{"full_name": name}, auth)
			if res.Status != http.StatusOK {
				t.Fatalf("PATCH %d bytes / 255 characters: %d %s", len(name), res.Status, res.Body)
			}
			var me struct {
				FullName string `json:"full_name"`
			}
			app.Do(http.MethodGet, "/api/users/me", nil, auth).JSON(t, &me)
			if me.FullName != name {
				t.Fatalf("stored %q, sent %q", me.FullName, name)
			}
		}
		res := app.Do(http.MethodPost, "/api/auth/register", map[string]any{"email": "long.name@example.test", "password": "long enough pw", "full_name": strings.Repeat("名", 255)})
		if res.Status != http.StatusCreated {
			t.Fatalf("register with a 255-character name: %d %s", res.Status, res.Body)
		}
		if p := expectProblem(t, app.Do(http.MethodPatch, "/api/users/me", map[string]any{"full_name": strings.Repeat("名", 256)}, auth), 422); p.Code != "validation_failed" {
			t.Errorf("256 characters: code %q", p.Code)
		}
		for _, name := range []string{"a\x00b", "line\nbreak", "bell\a"} {
			p := expectProblem(t, app.Do(http.MethodPatch, "/api/users/me", map[string]any{"full_name": name}, auth), 422)
			if p.Code != "validation_failed" || len(p.Errors) != 1 || p.Errors[0].Code != "control_characters" || p.Errors[0].Location != "body.full_name" {
				t.Errorf("full name %q: %+v", name, p)
			}
		}
	})
}

func TestSignupCanBeDisabled(t *testing.T) {
	db := testkit.NewDB(t, "sqlite3")
	app := apptest.Start(t, db, testkit.WithEnv("SIGNUP_ENABLED", "false"))
	res := app.Do(http.MethodPost, "/api/auth/register", map[string]string{"email": "x@example.test", "password": "long enough pw"})
	if p := expectProblem(t, res, http.StatusForbidden); p.Code != "signup_disabled" {
		t.Fatalf("code = %q", p.Code)
	}
}

func expectProblem(t *testing.T, res *testkit.Response, status int) testkit.Problem {
	t.Helper()
	if res.Status != status {
		t.Fatalf("status = %d, want %d: %s", res.Status, status, res.Body)
	}
	return res.Problem(t)
}

func expectUnauthorized(t *testing.T, res *testkit.Response) {
	t.Helper()
	expectProblem(t, res, http.StatusUnauthorized)
	if h := res.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
		t.Fatalf("WWW-Authenticate = %q", h)
	}
}
