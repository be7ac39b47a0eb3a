package authz_test

import (
	"testing"

	"github.com/acme/monolith/platform/authz"
)

// TestIntersect: what both sets hold; "all" yields the other set, so an
// admin's key holds exactly its own permissions.
func TestIntersect(t *testing.T) {
	for _, c := range []struct {
		a, b authz.Set
		want []string
		all  bool
	}{
		{authz.Of("a:x", "b:y"), authz.Of("b:y", "c:z"), []string{"b:y"}, false},
		{authz.All(), authz.Of("a:x"), []string{"a:x"}, false},
		{authz.Of("a:x"), authz.All(), []string{"a:x"}, false},
		{authz.All(), authz.All(), nil, true},
		{authz.Of(), authz.Of("a:x"), nil, false},
	} {
		got := authz.Intersect(c.a, c.b)
		if got.IsAll() != c.all {
			t.Fatalf("%v ∩ %v: all = %v", c.a, c.b, got.IsAll())
		}
		for _, n := range []string{"a:x", "b:y", "c:z"} {
			want := c.all
			for _, w := range c.want {
				want = want || w == n
			}
			if got.Has(n) != want {
				t.Fatalf("%v ∩ %v: Has(%s) = %v", c.a, c.b, n, !want)
			}
		}
	}
}
