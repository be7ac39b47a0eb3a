package authstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/acme/monolith/modules/auth/authstore"
	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// TestAPIKeyStore: keys are found by hash only, listed newest first while
// live, revoked once (a second revocation finds nothing), touched at most
// once per window, and pruned once dead for the retention, on both
// databases; the hash is unique.
func TestAPIKeyStore(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := authstore.New(db)
		now := time.Now().UTC().Truncate(time.Microsecond)
		user := uuid.New()
		mk := func(created, expires time.Time, hash string) authsvc.APIKey {
			k := authsvc.APIKey{ID: uuid.New(), UserID: user, Name: "clé 🔑", Hint: "mkp_abcd", Permissions: []string{"users:read"},
				CreatedAt: created, ExpiresAt: expires}
			if err := s.CreateAPIKey(ctx, k, hash); err != nil {
				t.Fatal(err)
			}
			return k
		}
		hash := func(c string) string { return strings.Repeat(c, 64) }
		mk(now.Add(-60*24*time.Hour), now.Add(-30*24*time.Hour), hash("a"))
		live := mk(now, now.Add(time.Hour), hash("b"))
		newer := mk(now.Add(time.Second), now.Add(time.Hour), hash("c"))
		if err := s.CreateAPIKey(ctx, authsvc.APIKey{ID: uuid.New(), UserID: user, Name: "dup", Hint: "x", CreatedAt: now, ExpiresAt: now.Add(time.Hour)}, hash("b")); err == nil {
			t.Fatal("a second key with the same hash was stored")
		}
		got, err := s.APIKeyByHash(ctx, hash("b"))
		if err != nil || got.ID != live.ID || got.Name != "clé 🔑" || got.LastUsedAt != nil {
			t.Fatalf("by hash: %+v %v", got, err)
		}
		if _, err := s.APIKeyByHash(ctx, hash("z")); !errors.Is(err, authsvc.ErrNoSession) {
			t.Fatalf("unknown hash: %v", err)
		}
		list, err := s.APIKeys(ctx, user, now)
		if err != nil || len(list) != 2 || list[0].ID != newer.ID || list[1].ID != live.ID {
			t.Fatalf("list: %+v %v", list, err)
		}

		if err := s.TouchAPIKey(ctx, live.ID, now, now.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.TouchAPIKey(ctx, live.ID, now.Add(time.Second), now.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.APIKeyByHash(ctx, hash("b")); got.LastUsedAt == nil || !got.LastUsedAt.Equal(now) {
			t.Fatalf("last used %v, want the first touch %v", got.LastUsedAt, now)
		}

		if err := s.RevokeAPIKey(ctx, uuid.New(), live.ID, now); !errors.Is(err, authsvc.ErrNoSession) {
			t.Fatalf("revoked by another user: %v", err)
		}
		if err := s.RevokeAPIKey(ctx, user, live.ID, now); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeAPIKey(ctx, user, live.ID, now); !errors.Is(err, authsvc.ErrNoSession) {
			t.Fatalf("second revocation: %v", err)
		}
		if _, err := s.Prune(ctx, now, now.Add(-24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.APIKeyByHash(ctx, hash("a")); !errors.Is(err, authsvc.ErrNoSession) {
			t.Fatalf("key dead for a month kept: %v", err)
		}
		for _, h := range []string{"b", "c"} { // revoked just now; live
			if _, err := s.APIKeyByHash(ctx, hash(h)); err != nil {
				t.Fatalf("recent key %s pruned: %v", h, err)
			}
		}
	})
}
