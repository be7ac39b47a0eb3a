package authz_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"go.uber.org/fx"

	"github.com/acme/monolith/platform/authz"
)

// catalogueOf builds the catalogue the way the application does: through
// fx, from the declarations of every option.
func catalogueOf(t *testing.T, opts ...fx.Option) (*authz.Catalogue, error) {
	t.Helper()
	var c *authz.Catalogue
	app := fx.New(append(opts, fx.NopLogger, fx.Provide(authz.NewCatalogue), fx.Populate(&c))...)
	if err := app.Err(); err != nil {
		return nil, err
	}
	if err := app.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = app.Stop(context.Background()) })
	return c, nil
}

// TestCatalogueGathersEveryModule: two modules' declarations make one
// catalogue, sorted by name, with descriptions.
func TestCatalogueGathersEveryModule(t *testing.T) {
	c, err := catalogueOf(t,
		fx.Module("notes", authz.Provide(authz.Permission{Name: "notes:write", Description: "Write notes"})),
		fx.Module("users", authz.Provide(
			authz.Permission{Name: "users:read", Description: "Read users"},
			authz.Permission{Name: "notes:read", Description: "Read notes"},
		)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Names(); !slices.Equal(got, []string{"notes:read", "notes:write", "users:read"}) {
		t.Fatalf("names = %v", got)
	}
	if all := c.All(); all[2].Description != "Read users" {
		t.Fatalf("all = %v", all)
	}
	if !c.Has("notes:write") || c.Has("notes:delete") {
		t.Fatal("Has")
	}
}

// TestCatalogueRefusesAtStart: a duplicate names both declarations, a
// malformed name and a missing description are refused; the application
// does not start.
func TestCatalogueRefusesAtStart(t *testing.T) {
	_, err := catalogueOf(t,
		fx.Module("a", authz.Provide(authz.Permission{Name: "notes:write", Description: "Write notes"})),
		fx.Module("b", authz.Provide(authz.Permission{Name: "notes:write", Description: "Edit notes"})),
	)
	if err == nil || !strings.Contains(err.Error(), "notes:write is declared twice") ||
		!strings.Contains(err.Error(), `"Write notes"`) || !strings.Contains(err.Error(), `"Edit notes"`) ||
		!strings.Contains(err.Error(), "platform/authz_test") {
		t.Fatalf("duplicate: %v", err)
	}
	for _, bad := range []string{"Notes:write", "notes", "notes:", ":write", "notes:write:all", "notes write", "nötes:write", "1notes:write", strings.Repeat("a", 60) + ":write"} {
		if _, err := authz.New(authz.Permission{Name: bad, Description: "x"}); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
	if _, err := authz.New(authz.Permission{Name: "notes:write", Description: " "}); err == nil {
		t.Error("a permission without a description was accepted")
	}
	if _, err := authz.New(authz.Permission{Name: "order-items:bulk_edit", Description: "x"}); err != nil {
		t.Errorf("a valid name was refused: %v", err)
	}
}

// TestSet: what a set holds, unions (any role holding all makes the union
// all), coverage (escalation checks) and the names listed for a caller.
func TestSet(t *testing.T) {
	c, err := authz.New(authz.Permission{Name: "a:read", Description: "x"}, authz.Permission{Name: "a:write", Description: "x"})
	if err != nil {
		t.Fatal(err)
	}
	var none authz.Set
	if none.Has("a:read") || none.IsAll() || len(none.Names(c)) != 0 || none.Names(c) == nil {
		t.Fatal("the zero set holds something")
	}
	s := authz.Of("a:write", "a:read", "a:read", "gone:read")
	if !s.Has("a:read") || s.Has("a:delete") {
		t.Fatal("Of")
	}
	// A name no module declares any more is not listed.
	if got := s.Names(c); !slices.Equal(got, []string{"a:read", "a:write"}) {
		t.Fatalf("names = %v", got)
	}
	if got := authz.All().Names(c); !slices.Equal(got, []string{"a:read", "a:write"}) || !authz.All().Has("later:added") {
		t.Fatalf("all = %v", got)
	}
	if u := authz.Union(authz.Of("a:read"), authz.Of("a:write")); !u.Has("a:read") || !u.Has("a:write") || u.IsAll() {
		t.Fatal("union")
	}
	if !authz.Union(authz.Of("a:read"), authz.All()).IsAll() {
		t.Fatal("union with all")
	}
	if ok, missing := authz.Of("a:read").Covers(authz.Of("a:read", "a:write")); ok || missing != "a:write" {
		t.Fatalf("covers: %v %q", ok, missing)
	}
	if ok, _ := authz.Of("a:read", "a:write").Covers(authz.All()); ok {
		t.Fatal("a list covers all")
	}
	if ok, _ := authz.All().Covers(authz.Of("a:write")); !ok {
		t.Fatal("all does not cover")
	}
}
