package authstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/acme/monolith/modules/auth/authstore"
	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// TestPrune removes dead sessions with their refresh tokens, expired reset
// tokens and stale counters, and keeps everything live (the control).
func TestPrune(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := authstore.New(db.Ent)
		now := time.Now().UTC().Truncate(time.Microsecond)
		cutoff := now.Add(-24 * time.Hour)
		user := uuid.New()
		mk := func(created, expires time.Time, hash string) uuid.UUID {
			id := uuid.New()
			err := s.CreateSession(ctx, authsvc.Session{ID: id, UserID: user, ClientID: "c", CreatedAt: created, LastUsedAt: created, ExpiresAt: expires}, hash)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}
		dead := mk(now.Add(-60*24*time.Hour), now.Add(-30*24*time.Hour), "d")
		live := mk(now, now.Add(time.Hour), "l")
		revoked := mk(now, now.Add(time.Hour), "r")
		if err := s.RevokeSession(ctx, revoked, "logout", now); err != nil { // revoked now: kept until the cutoff passes it
			t.Fatal(err)
		}
		if err := s.CreateReset(ctx, user, "old", now.Add(-time.Hour), now.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		if err := s.Hit(ctx, "login:ip:stale", 5, time.Minute, now.Add(-48*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.Hit(ctx, "login:ip:fresh", 5, time.Minute, now); err != nil {
			t.Fatal(err)
		}

		n, err := s.Prune(ctx, now, cutoff)
		if err != nil || n != 1 {
			t.Fatalf("pruned %d sessions (%v), want 1", n, err)
		}
		if _, err := s.Session(ctx, dead); !errors.Is(err, authsvc.ErrNoSession) {
			t.Fatalf("dead session kept: %v", err)
		}
		if _, err := s.RefreshToken(ctx, "d"); !errors.Is(err, authsvc.ErrNoSession) {
			t.Fatalf("dead refresh token kept: %v", err)
		}
		for _, id := range []uuid.UUID{live, revoked} {
			if _, err := s.Session(ctx, id); err != nil {
				t.Fatalf("live or recent session removed: %v", err)
			}
		}
		if _, err := s.RefreshToken(ctx, "l"); err != nil {
			t.Fatalf("live refresh token removed: %v", err)
		}
		if _, err := s.ConsumeReset(ctx, "old", now); !errors.Is(err, authsvc.ErrNoSession) {
			t.Fatalf("expired reset token kept: %v", err)
		}
		// The fresh counter survives: a second hit in its window counts.
		if err := s.Hit(ctx, "login:ip:fresh", 2, time.Minute, now); err != nil {
			t.Fatal(err)
		}
		if until, err := s.BlockedUntil(ctx, "login:ip:fresh", now); err != nil || until.IsZero() {
			t.Fatalf("fresh counter lost: %v %v", until, err)
		}
	})
}
