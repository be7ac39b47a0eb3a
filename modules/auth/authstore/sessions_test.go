package authstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/acme/monolith/modules/auth/authstore"
	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/paging"
	"github.com/acme/monolith/platform/testkit"
)

// openSession stores a live session of user with refresh token hash.
func openSession(t *testing.T, s *authstore.Store, user uuid.UUID, created time.Time, hash string) uuid.UUID {
	t.Helper()
	id := uuid.New()
	err := s.CreateSession(t.Context(), authsvc.Session{
		ID: id, UserID: user, ClientID: "web", UserAgent: "test", IP: "203.0.113.7",
		CreatedAt: created, LastUsedAt: created, ExpiresAt: created.Add(24 * time.Hour),
	}, hash)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestSessionRoundTrip: a session and its first refresh token are stored
// together and read back as written.
func TestSessionRoundTrip(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		s := authstore.New(db)
		now := time.Now().UTC().Truncate(time.Microsecond)
		user := uuid.New()
		id := openSession(t, s, user, now, "h0")
		got, err := s.Session(t.Context(), id)
		want := authsvc.Session{ID: id, UserID: user, ClientID: "web", UserAgent: "test", IP: "203.0.113.7",
			CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
		if diff := cmp.Diff(want, got); err != nil || diff != "" {
			t.Fatalf("session: %v; (-want +got):\n%s", err, diff)
		}
		rt, err := s.RefreshToken(t.Context(), "h0")
		if err != nil || rt.SessionID != id || rt.RotatedAt != nil || rt.ChildNonce != "" {
			t.Fatalf("first refresh token = %+v, %v", rt, err)
		}
		if _, err := s.Session(t.Context(), uuid.New()); !errors.Is(err, authsvc.ErrNoSession) {
			t.Fatalf("unknown session: %v", err)
		}
		if _, err := s.RefreshToken(t.Context(), "unknown"); !errors.Is(err, authsvc.ErrNoSession) {
			t.Fatalf("unknown refresh token: %v", err)
		}
	})
}

// TestConcurrentRotationHasOneWinner: of concurrent rotations of one
// token, exactly one wins (the conditional update); only its child is
// stored, the parent names its nonce, and the session's last use moves to
// the rotation.
func TestConcurrentRotationHasOneWinner(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		s := authstore.New(db)
		ctx := context.Background()
		created := time.Now().UTC().Truncate(time.Microsecond).Add(-time.Hour)
		id := openSession(t, s, uuid.New(), created, "parent")
		parent, err := s.RefreshToken(ctx, "parent")
		if err != nil {
			t.Fatal(err)
		}
		now := created.Add(time.Hour)
		const n = 8
		won := make([]bool, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				won[i], errs[i] = s.Rotate(ctx, parent, fmt.Sprint("nonce-", i), fmt.Sprint("child-", i), now)
			})
		}
		wg.Wait()
		winner := -1
		for i := range n {
			// SQLite serialises writers: a loser may see the database
			// busy rather than the rotated row; it must not win either.
			if errs[i] != nil {
				t.Logf("rotation %d: %v", i, errs[i])
				continue
			}
			if won[i] {
				if winner >= 0 {
					t.Fatalf("rotations %d and %d both won", winner, i)
				}
				winner = i
			}
		}
		if winner < 0 {
			t.Fatalf("no rotation won: %v", errs)
		}
		p, err := s.RefreshToken(ctx, "parent")
		if err != nil || p.RotatedAt == nil || !p.RotatedAt.Equal(now) || p.ChildNonce != fmt.Sprint("nonce-", winner) {
			t.Fatalf("parent = %+v, %v; winner %d", p, err, winner)
		}
		for i := range n {
			_, err := s.RefreshToken(ctx, fmt.Sprint("child-", i))
			if stored := err == nil; stored != (i == winner) {
				t.Fatalf("child %d stored = %v (winner %d): %v", i, stored, winner, err)
			}
		}
		if sess, err := s.Session(ctx, id); err != nil || !sess.LastUsedAt.Equal(now) {
			t.Fatalf("session last used %v (%v), want %v", sess.LastUsedAt, err, now)
		}
		// A later rotation of the same parent loses too.
		if ok, err := s.Rotate(ctx, parent, "late", "late-child", now); ok || err != nil {
			t.Fatalf("late rotation: %v %v", ok, err)
		}
	})
}

// TestRevocationKeepsTheFirst: revoking twice keeps the first time;
// revoking a user's sessions ends all of theirs and nobody else's.
func TestRevocationKeepsTheFirst(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		s := authstore.New(db)
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		alice, bob := uuid.New(), uuid.New()
		a1, a2, b1 := openSession(t, s, alice, now, "a1"), openSession(t, s, alice, now, "a2"), openSession(t, s, bob, now, "b1")
		if err := s.RevokeSession(ctx, a1, authsvc.ReasonLogout, now); err != nil {
			t.Fatal(err)
		}
		if err := s.RevokeSession(ctx, a1, authsvc.ReasonReuse, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Session(ctx, a1); got.RevokedAt == nil || !got.RevokedAt.Equal(now) {
			t.Fatalf("revoked at %v, want the first revocation %v", got.RevokedAt, now)
		}
		if err := s.RevokeUserSessions(ctx, alice, authsvc.ReasonLogoutAll, now.Add(2*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Session(ctx, a2); got.RevokedAt == nil {
			t.Fatal("logout-all left a session of the user")
		}
		if got, _ := s.Session(ctx, a1); !got.RevokedAt.Equal(now) {
			t.Fatalf("logout-all moved an earlier revocation to %v", got.RevokedAt)
		}
		if got, _ := s.Session(ctx, b1); got.RevokedAt != nil {
			t.Fatal("logout-all ended another user's session")
		}
		// Revoking a session that does not exist is not an error.
		if err := s.RevokeSession(ctx, uuid.New(), authsvc.ReasonLogout, now); err != nil {
			t.Fatalf("unknown session: %v", err)
		}
	})
}

// TestActiveSessions lists only the user's sessions that are unrevoked,
// unexpired and used since the cutoff, oldest first, a page at a time,
// with the total when asked.
func TestActiveSessions(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		s := authstore.New(db)
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		user := uuid.New()
		live1 := openSession(t, s, user, now.Add(-3*time.Minute), "l1")
		live2 := openSession(t, s, user, now.Add(-2*time.Minute), "l2")
		revoked := openSession(t, s, user, now.Add(-time.Minute), "r")
		if err := s.RevokeSession(ctx, revoked, authsvc.ReasonLogout, now); err != nil {
			t.Fatal(err)
		}
		openSession(t, s, uuid.New(), now, "other user")
		// Expired though recently used.
		if err := s.CreateSession(ctx, authsvc.Session{ID: uuid.New(), UserID: user, ClientID: "web",
			CreatedAt: now.Add(-30 * time.Minute), LastUsedAt: now.Add(-time.Minute), ExpiresAt: now}, "expired"); err != nil {
			t.Fatal(err)
		}
		// Idle: last used before the cutoff.
		openSession(t, s, user, now.Add(-2*time.Hour), "idle")
		usedSince := now.Add(-time.Hour)

		first, err := s.ActiveSessions(ctx, user, now, usedSince, paging.Request{Limit: 1, Total: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(first.Items) != 1 || first.Items[0].ID != live1 || first.Next == nil || first.Total == nil || *first.Total != 2 {
			t.Fatalf("first page = %+v", first)
		}
		rest, err := s.ActiveSessions(ctx, user, now, usedSince, paging.Request{Limit: 10, After: *first.Next})
		if err != nil {
			t.Fatal(err)
		}
		if len(rest.Items) != 1 || rest.Items[0].ID != live2 || rest.Next != nil || rest.Total != nil {
			t.Fatalf("second page = %+v", rest)
		}
	})
}

// TestResetTokenIsSpentOnce: a reset token redeems once, even when
// redeemed concurrently; an expired one never; a newer token of the user
// replaces the older; and DeleteResets ends them all.
func TestResetTokenIsSpentOnce(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		s := authstore.New(db)
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		user := uuid.New()
		if err := s.CreateReset(ctx, user, "once", now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		const n = 6
		got := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				id, err := s.ConsumeReset(ctx, "once", now)
				if err == nil && id != user {
					err = fmt.Errorf("redeemed for %s, want %s", id, user)
				}
				got[i] = err
			})
		}
		wg.Wait()
		wins := 0
		for _, err := range got {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, authsvc.ErrNoSession):
				// SQLite serialises writers: a busy loser is still a loser.
				t.Logf("redemption: %v", err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d redemptions succeeded: %v", wins, got)
		}
		if _, err := s.ConsumeReset(ctx, "once", now); !errors.Is(err, authsvc.ErrNoSession) {
			t.Fatalf("spent token: %v", err)
		}

		if err := s.CreateReset(ctx, user, "expiring", now, now.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConsumeReset(ctx, "expiring", now.Add(time.Minute)); !errors.Is(err, authsvc.ErrNoSession) {
			t.Fatalf("token at its expiry: %v", err)
		}

		if err := s.CreateReset(ctx, user, "older", now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateReset(ctx, user, "newer", now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConsumeReset(ctx, "older", now); !errors.Is(err, authsvc.ErrNoSession) {
			t.Fatalf("an older email's token: %v", err)
		}
		other := uuid.New()
		if err := s.CreateReset(ctx, other, "theirs", now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteResets(ctx, user); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ConsumeReset(ctx, "newer", now); !errors.Is(err, authsvc.ErrNoSession) {
			t.Fatalf("token after DeleteResets: %v", err)
		}
		if id, err := s.ConsumeReset(ctx, "theirs", now); err != nil || id != other {
			t.Fatalf("another user's token: %v %v", id, err)
		}
	})
}
