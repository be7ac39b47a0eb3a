package testkit_test

import (
	"slices"
	"testing"

	"github.com/acme/monolith/platform/testkit"
)

// TestDialectsFrom: TEST_DIALECTS selects the databases ForEachDB runs on
// (the run through PgBouncer repeats only Postgres); empty means both, and
// an unknown name stops the run instead of silently testing nothing.
func TestDialectsFrom(t *testing.T) {
	for env, want := range map[string][]string{
		"":                 {"sqlite3", "postgres"},
		"postgres":         {"postgres"},
		" sqlite ":         {"sqlite3"},
		"sqlite3,postgres": {"sqlite3", "postgres"},
	} {
		if got := testkit.DialectsFrom(env); !slices.Equal(got, want) {
			t.Errorf("TEST_DIALECTS=%q: %v, want %v", env, got, want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("TEST_DIALECTS=mysql accepted")
		}
	}()
	testkit.DialectsFrom("mysql")
}
