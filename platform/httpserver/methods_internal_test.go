package httpserver

import (
	"testing"

	"github.com/gofiber/fiber/v2"
)

func testRoutes() *routeTable {
	app := fiber.New()
	h := func(*fiber.Ctx) error { return nil }
	for _, r := range [][2]string{
		{"GET", "/api/users/me"}, {"PATCH", "/api/users/me"}, {"POST", "/api/users/me/password"},
		{"GET", "/api/users"}, {"POST", "/api/users"},
		{"GET", "/api/users/:id"}, {"PATCH", "/api/users/:id"}, {"DELETE", "/api/users/:id"},
		{"GET", "/api/things/:id/parts/:part"}, {"GET", "/api/things/special/parts/:part"},
	} {
		app.Add(r[0], r[1], h)
	}
	return newRouteTable(app.GetRoutes(true))
}

// TestRouteLookup: concrete segments win, a parameter takes the rest, and
// a concrete prefix that leads nowhere falls back to the parameter.
func TestRouteLookup(t *testing.T) {
	rt := testRoutes()
	for path, want := range map[string]string{
		"/api/users/me":                 "GET, PATCH",
		"/API/Users/Me/":                "GET, PATCH",
		"/api/users/0b9a2c1e":           "GET, PATCH, DELETE",
		"/api/users/me/password":        "POST",
		"/api/users":                    "GET, POST",
		"/api/things/special/parts/x":   "GET",
		"/api/things/special/parts":     "",
		"/api/things/other/parts/x":     "GET",
		"/api/nothing":                  "",
		"/":                             "",
		"//api//users//me":              "",
		"/api/users//me":                "",
		"/api/users/me/password/deeper": "",
		"/api/users/%6De":               "GET, PATCH, DELETE", // fiber routes the raw path: not "me"
	} {
		got := ""
		if n := rt.lookup(path); n != nil {
			got = n.allow
		}
		if got != want {
			t.Errorf("%s: %q, want %q", path, got, want)
		}
	}
}

func BenchmarkRouteLookup(b *testing.B) {
	rt := testRoutes()
	b.ReportAllocs()
	for b.Loop() {
		if rt.lookup("/api/users/0b9a2c1e-6f0d-4d55-9a3e-2f6b0c8d7e11") == nil {
			b.Fatal("no route")
		}
	}
}
