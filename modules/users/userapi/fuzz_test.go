package userapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/testkit"
)

// fuzzApp is one application per database and fuzzing process, reached
// with a plain client: the kit's secret scan would flag fuzzed bodies that
// repeat a "password" value in another field. Every input goes to SQLite
// and to Postgres, whose text rules are stricter (no NUL, valid UTF-8,
// varchar limits in characters).
type fuzzApp struct {
	app        *apptest.App
	root, user string
}

func startFuzzApps(f *testing.F) []*fuzzApp {
	var apps []*fuzzApp
	for _, dia := range testkit.ReachableDialects(f) {
		// Fuzzing registers many times from one address: lift its limit.
		app := apptest.Start(f, testkit.NewDB(f, dia), testkit.WithEnv("REGISTER_THROTTLE_IP_LIMIT", "1000000"))
		apps = append(apps, &fuzzApp{app: app, root: app.SuperuserToken(), user: app.NewUser(false).Token})
	}
	return apps
}

func (a *fuzzApp) do(t *testing.T, method, path, token string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, a.app.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 400 {
		var p testkit.Problem
		if json.Unmarshal(b, &p) != nil || p.Code == "" || p.Status != res.StatusCode {
			t.Fatalf("%s %s: %d without a problem body: %s", method, path, res.StatusCode, b)
		}
	}
	return res.StatusCode, b
}

// FuzzUserJSON sends arbitrary bodies to the three JSON endpoints that
// decode users DTOs. Whatever the bytes, the answer is a success or a 4xx
// problem, never a 5xx. Seeds: testdata/fuzz/FuzzUserJSON.
func FuzzUserJSON(f *testing.F) {
	f.Add(uint8(0), []byte(`{"email":"a@example.test","password":"long enough"}`))
	apps := startFuzzApps(f)
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		for _, a := range apps {
			var status int
			var out []byte
			switch which % 3 {
			case 0:
				status, out = a.do(t, http.MethodPost, "/api/auth/register", "", body)
			case 1:
				status, out = a.do(t, http.MethodPatch, "/api/users/me", a.user, body)
			default:
				status, out = a.do(t, http.MethodPost, "/api/users", a.root, body)
			}
			switch status {
			case http.StatusOK, http.StatusCreated, http.StatusBadRequest, http.StatusConflict,
				http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
			default:
				t.Fatalf("%s, endpoint %d: status %d for %q: %s", a.app.DB.Dialect, which%3, status, body, out)
			}
		}
	})
}

// FuzzPagination: any limit and cursor text gives a page within bounds or
// a 422, never a 5xx. Seeds: testdata/fuzz/FuzzPagination.
func FuzzPagination(f *testing.F) {
	f.Add("50", "")
	apps := startFuzzApps(f)
	f.Fuzz(func(t *testing.T, limit, cursor string) {
		for _, a := range apps {
			checkPage(t, a, limit, cursor)
		}
	})
}

func checkPage(t *testing.T, a *fuzzApp, limit, cursor string) {
	q := url.Values{"limit": {limit}, "cursor": {cursor}}
	status, out := a.do(t, http.MethodGet, "/api/users?"+q.Encode(), a.root, nil)
	switch status {
	case http.StatusUnprocessableEntity, http.StatusBadRequest:
		return
	case http.StatusOK:
	default:
		t.Fatalf("%s: limit %q cursor %q: %d %s", a.app.DB.Dialect, limit, cursor, status, out)
	}
	var page struct {
		Items []json.RawMessage `json:"items"`
		Total *int              `json:"total"`
	}
	if err := json.Unmarshal(out, &page); err != nil {
		t.Fatal(err)
	}
	max := 100
	if n, err := strconv.Atoi(limit); err == nil && limit != "" {
		max = n
	}
	if len(page.Items) > max || page.Total != nil {
		t.Fatalf("%s: limit %q cursor %q: page out of bounds: %s", a.app.DB.Dialect, limit, cursor, out)
	}
}
