package authstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/acme/monolith/modules/auth/authstore"
	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// TestSessionCache: a cached session is served from memory (the control:
// a change no announcement reports is not seen), and every announcement
// kind, this process's own revocations and a disabled feed each make the
// next lookup read the database.
func TestSessionCache(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		store := authstore.New(db)
		// Another replica's store: its changes reach this cache only
		// through announcements, which this test delivers by hand.
		other := authstore.New(db)
		c := authstore.NewSessionCache(store, time.Minute, 8)
		c.Enable(true)
		now := time.Now().UTC().Truncate(time.Microsecond)
		user := uuid.New()
		open := func() uuid.UUID {
			t.Helper()
			id := uuid.New()
			if err := store.CreateSession(ctx, authsvc.Session{ID: id, UserID: user, ClientID: "c", CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour)}, id.String()); err != nil {
				t.Fatal(err)
			}
			if s, err := c.Session(ctx, id); err != nil || s.RevokedAt != nil {
				t.Fatalf("new session: %+v, %v", s, err)
			}
			return id
		}
		revoked := func(id uuid.UUID) bool {
			t.Helper()
			s, err := c.Session(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return s.RevokedAt != nil
		}

		a := open()
		if err := other.RevokeSession(ctx, a, authsvc.ReasonLogout, now); err != nil {
			t.Fatal(err)
		}
		if revoked(a) {
			t.Fatal("control: the cache read the database; it caches nothing")
		}
		c.Invalidate("s:" + a.String())
		if !revoked(a) {
			t.Fatal("s: announcement: still live")
		}

		b := open()
		if err := other.RevokeUserSessions(ctx, user, authsvc.ReasonLogoutAll, now); err != nil {
			t.Fatal(err)
		}
		c.Invalidate("u:" + user.String())
		if !revoked(b) {
			t.Fatal("u: announcement: still live")
		}

		d := open()
		if err := store.RevokeSession(ctx, d, authsvc.ReasonLogout, now); err != nil {
			t.Fatal(err)
		}
		if !revoked(d) {
			t.Fatal("this process's own revocation: still live")
		}

		e := open()
		c.Enable(false)
		if err := other.RevokeSession(ctx, e, authsvc.ReasonLogout, now); err != nil {
			t.Fatal(err)
		}
		if !revoked(e) {
			t.Fatal("disabled cache: still served from memory")
		}

		c.Enable(true)
		for range 20 {
			open()
		}
		if n := c.Cached(); n > 8 {
			t.Fatalf("%d sessions cached, bound 8", n)
		}
	})
}
