package authstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/acme/monolith/modules/auth/authstore"
	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// stored is a key row as the ring would seal it (the store never opens it).
func stored(kid string) authsvc.StoredKey {
	return authsvc.StoredKey{KID: kid, Alg: authsvc.Algorithm, Sealed: []byte("sealed " + kid)}
}

// states reads the key set as kid -> state.
func states(t *testing.T, s *authstore.Store) map[string]authsvc.StoredKey {
	t.Helper()
	rows, err := s.Keys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]authsvc.StoredKey{}
	for _, r := range rows {
		out[r.KID] = r
	}
	return out
}

func stateOf(set map[string]authsvc.StoredKey) map[string]string {
	out := map[string]string{}
	for kid, k := range set {
		out[kid] = k.State
	}
	return out
}

func sameStates(got map[string]authsvc.StoredKey, want map[string]string) bool {
	g := stateOf(got)
	if len(g) != len(want) {
		return false
	}
	for k, v := range want {
		if g[k] != v {
			return false
		}
	}
	return true
}

// TestKeyRotationPipeline: the first key becomes current once (a second
// EnsureCurrent changes nothing); each rotation promotes the published
// next key, retires the current one until verifyUntil, deletes retired
// keys past theirs and publishes the new one, in one step.
func TestKeyRotationPipeline(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		s := authstore.New(db)
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		if err := s.EnsureCurrent(ctx, stored("k0")); err != nil {
			t.Fatal(err)
		}
		if err := s.EnsureCurrent(ctx, stored("other")); err != nil {
			t.Fatal(err)
		}
		if got := states(t, s); !sameStates(got, map[string]string{"k0": authsvc.KeyCurrent}) || string(got["k0"].Sealed) != "sealed k0" {
			t.Fatalf("after bootstrap: %v", stateOf(got))
		}

		promoted, err := s.RotateKeys(ctx, stored("k1"), now, now.Add(time.Hour))
		if err != nil || promoted != "" {
			t.Fatalf("first rotation promoted %q (%v); nothing was published", promoted, err)
		}
		if got := states(t, s); !sameStates(got, map[string]string{"k0": authsvc.KeyCurrent, "k1": authsvc.KeyNext}) {
			t.Fatalf("after publishing: %v", stateOf(got))
		}

		until := now.Add(2 * time.Hour)
		promoted, err = s.RotateKeys(ctx, stored("k2"), now.Add(time.Minute), until)
		if err != nil || promoted != "k1" {
			t.Fatalf("second rotation promoted %q (%v), want k1", promoted, err)
		}
		got := states(t, s)
		if !sameStates(got, map[string]string{"k0": authsvc.KeyRetired, "k1": authsvc.KeyCurrent, "k2": authsvc.KeyNext}) {
			t.Fatalf("after promoting: %v", stateOf(got))
		}
		if v := got["k0"].VerifyUntil; v == nil || !v.Equal(until) {
			t.Fatalf("retired key verifies until %v, want %v", v, until)
		}

		// Past k0's verifyUntil: the next rotation deletes it.
		promoted, err = s.RotateKeys(ctx, stored("k3"), until.Add(time.Second), until.Add(time.Hour))
		if err != nil || promoted != "k2" {
			t.Fatalf("third rotation promoted %q (%v), want k2", promoted, err)
		}
		if got := states(t, s); !sameStates(got, map[string]string{"k1": authsvc.KeyRetired, "k2": authsvc.KeyCurrent, "k3": authsvc.KeyNext}) {
			t.Fatalf("after expiry: %v", stateOf(got))
		}
	})
}

// TestRemoveKey: an unknown kid is ErrKeyNotFound; the only current key
// goes only with a replacement, and then the published next key signs if
// there is one, the replacement otherwise; other keys simply go.
func TestRemoveKey(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		s := authstore.New(db)
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		if err := s.EnsureCurrent(ctx, stored("k0")); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RemoveKey(ctx, "nope", nil, now); !errors.Is(err, authsvc.ErrKeyNotFound) {
			t.Fatalf("unknown kid: %v", err)
		}
		if _, err := s.RemoveKey(ctx, "k0", nil, now); !errors.Is(err, authsvc.ErrOnlyCurrentKey) {
			t.Fatalf("only current key without replacement: %v", err)
		}
		if got := states(t, s); !sameStates(got, map[string]string{"k0": authsvc.KeyCurrent}) {
			t.Fatalf("a refused removal changed the set: %v", stateOf(got))
		}

		if _, err := s.RotateKeys(ctx, stored("k1"), now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		repl := stored("r1")
		promoted, err := s.RemoveKey(ctx, "k0", &repl, now)
		if err != nil || promoted != "k1" {
			t.Fatalf("removal with a published next key promoted %q (%v), want k1", promoted, err)
		}
		if got := states(t, s); !sameStates(got, map[string]string{"k1": authsvc.KeyCurrent}) {
			t.Fatalf("after removing with a next key: %v", stateOf(got))
		}

		repl = stored("r2")
		promoted, err = s.RemoveKey(ctx, "k1", &repl, now)
		if err != nil || promoted != "r2" {
			t.Fatalf("removal without a next key promoted %q (%v), want r2", promoted, err)
		}
		if got := states(t, s); !sameStates(got, map[string]string{"r2": authsvc.KeyCurrent}) {
			t.Fatalf("after removing with the replacement: %v", stateOf(got))
		}

		if _, err := s.RotateKeys(ctx, stored("k3"), now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if promoted, err := s.RemoveKey(ctx, "k3", nil, now); err != nil || promoted != "" {
			t.Fatalf("removing a next key: %q %v", promoted, err)
		}
		if got := states(t, s); !sameStates(got, map[string]string{"r2": authsvc.KeyCurrent}) {
			t.Fatalf("after removing the next key: %v", stateOf(got))
		}
	})
}
