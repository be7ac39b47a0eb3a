package userstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/acme/monolith/modules/users/userstore"
	"github.com/acme/monolith/modules/users/usersvc"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/paging"
	"github.com/acme/monolith/platform/testkit"
)

func user(email string, superuser bool) usersvc.User {
	return usersvc.User{ID: uuid.New(), Email: email, FullName: "Zoë 日本", PasswordHash: "h", IsActive: true, IsSuperuser: superuser}
}

// TestStoreOnBothDatabases: the store's own contract on real SQLite and
// Postgres: rows round-trip (multibyte text included), driver errors
// become the domain's, and the last active superuser survives a removal
// in the store's transaction, also when two removals race.
func TestStoreOnBothDatabases(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := userstore.New(db.Ent)
		a, err := s.Create(ctx, user("a@example.com", true))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.ByEmail(ctx, "a@example.com"); err != nil || got.ID != a.ID || got.FullName != "Zoë 日本" || got.CreatedAt.IsZero() {
			t.Fatalf("round trip: %+v %v", got, err)
		}
		if _, err := s.Create(ctx, user("a@example.com", false)); !errors.Is(err, usersvc.ErrEmailTaken) {
			t.Fatalf("duplicate email: %v", err)
		}
		missing := uuid.New()
		if _, err := s.ByID(ctx, missing); !errors.Is(err, usersvc.ErrNotFound) {
			t.Fatalf("ByID of nobody: %v", err)
		}
		if _, err := s.Update(ctx, missing, usersvc.Change{FullName: new(string)}); !errors.Is(err, usersvc.ErrNotFound) {
			t.Fatalf("Update of nobody: %v", err)
		}
		if err := s.Delete(ctx, missing); !errors.Is(err, usersvc.ErrNotFound) {
			t.Fatalf("Delete of nobody: %v", err)
		}

		// The only active superuser can be neither demoted nor deleted.
		no := false
		if _, err := s.Update(ctx, a.ID, usersvc.Change{IsSuperuser: &no}); !errors.Is(err, usersvc.ErrLastSuperuser) {
			t.Fatalf("demote the last superuser: %v", err)
		}
		if _, err := s.Update(ctx, a.ID, usersvc.Change{IsActive: &no}); !errors.Is(err, usersvc.ErrLastSuperuser) {
			t.Fatalf("deactivate the last superuser: %v", err)
		}
		if err := s.Delete(ctx, a.ID); !errors.Is(err, usersvc.ErrLastSuperuser) {
			t.Fatalf("delete the last superuser: %v", err)
		}

		// Two superusers demoting each other at once: one succeeds.
		b, err := s.Create(ctx, user("b@example.com", true))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, id := range []uuid.UUID{a.ID, b.ID} {
			wg.Go(func() { _, errs[i] = s.Update(ctx, id, usersvc.Change{IsSuperuser: &no}) })
		}
		wg.Wait()
		refused := 0
		for _, err := range errs {
			switch {
			case errors.Is(err, usersvc.ErrLastSuperuser):
				refused++
			case err != nil:
				t.Fatalf("racing demotions: %v", err)
			}
		}
		page, err := s.List(ctx, paging.Request{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		left := 0
		for _, u := range page.Items {
			if u.IsSuperuser && u.IsActive {
				left++
			}
		}
		if refused != 1 || left != 1 {
			t.Fatalf("racing demotions: %d refused, %d active superusers left (want 1 and 1)", refused, left)
		}
	})
}
