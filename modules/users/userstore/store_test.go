package userstore_test

import (
	"time"

	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/acme/monolith/modules/users/userstore"
	"github.com/acme/monolith/modules/users/usersvc"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/paging"
	"github.com/acme/monolith/platform/testkit"
	"github.com/acme/monolith/platform/txn"
)

func user(email string, admin bool) usersvc.NewAccount {
	return usersvc.NewAccount{ID: uuid.New(), Email: email, FullName: "Zoë 日本", PasswordHash: "h", IsActive: true, Admin: admin}
}

// TestStoreOnBothDatabases: the store's own contract on real SQLite and
// Postgres: rows round-trip (multibyte text included), driver errors
// become the domain's, and the last active admin survives a removal in
// the store's transaction, also when two removals race (by the admin flag
// of an update, or by taking the admin role away).
func TestStoreOnBothDatabases(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := userstore.New(db.Ent)
		a, err := s.Create(ctx, user("a@example.com", true))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.ByEmail(ctx, "a@example.com"); err != nil || got.ID != a.ID || got.FullName != "Zoë 日本" || got.CreatedAt.IsZero() ||
			!got.IsAdmin() || len(got.Roles) != 1 || got.Roles[0].Name != usersvc.AdminRole {
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

		// The only active admin can be neither demoted nor deleted.
		no := false
		if _, err := s.Update(ctx, a.ID, usersvc.Change{Admin: &no}); !errors.Is(err, usersvc.ErrLastSuperuser) {
			t.Fatalf("demote the last superuser: %v", err)
		}
		if _, err := s.UnassignRole(ctx, a.ID, usersvc.AdminRoleID); !errors.Is(err, usersvc.ErrLastSuperuser) {
			t.Fatalf("take the admin role from the last admin: %v", err)
		}
		if _, err := s.Update(ctx, a.ID, usersvc.Change{IsActive: &no}); !errors.Is(err, usersvc.ErrLastSuperuser) {
			t.Fatalf("deactivate the last superuser: %v", err)
		}
		if err := s.Delete(ctx, a.ID); !errors.Is(err, usersvc.ErrLastSuperuser) {
			t.Fatalf("delete the last superuser: %v", err)
		}

		// Two admins demoted at once, one by the flag, one by the role:
		// one is refused.
		b, err := s.Create(ctx, user("b@example.com", true))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make([]error, 2)
		wg.Go(func() { _, errs[0] = s.Update(ctx, a.ID, usersvc.Change{Admin: &no}) })
		wg.Go(func() { _, errs[1] = s.UnassignRole(ctx, b.ID, usersvc.AdminRoleID) })
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
			if u.IsAdmin() && u.IsActive {
				left++
			}
		}
		if refused != 1 || left != 1 {
			t.Fatalf("racing demotions: %d refused, %d active superusers left (want 1 and 1)", refused, left)
		}
	})
}

// TestRolesOnBothDatabases: the migration made the built-in admin role;
// roles round-trip (a multibyte name, a JSON list), names are unique,
// built-in roles are neither changed nor deleted here whatever the
// caller checked, memberships give their permissions and go with a
// deleted role, and assigning twice or unassigning what is not held is
// no error.
func TestRolesOnBothDatabases(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := userstore.New(db.Ent)
		admin, err := s.RoleByID(ctx, usersvc.AdminRoleID)
		if err != nil || admin.Name != usersvc.AdminRole || !admin.All || !admin.Builtin || admin.CreatedAt.IsZero() {
			t.Fatalf("admin role: %+v %v", admin, err)
		}
		r, err := s.CreateRole(ctx, usersvc.Role{ID: uuid.New(), Name: "サポート", Permissions: []string{"notes:read", "users:read"}})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := s.RoleByName(ctx, "サポート"); err != nil || got.ID != r.ID || !slices.Equal(got.Permissions, r.Permissions) || got.All || got.Builtin {
			t.Fatalf("round trip: %+v %v", got, err)
		}
		if _, err := s.CreateRole(ctx, usersvc.Role{ID: uuid.New(), Name: "サポート"}); !errors.Is(err, usersvc.ErrRoleNameTaken) {
			t.Fatalf("duplicate name: %v", err)
		}
		name := "admin"
		if _, err := s.UpdateRole(ctx, usersvc.AdminRoleID, usersvc.RoleChange{Name: &name}); !errors.Is(err, usersvc.ErrRoleNotFound) {
			t.Fatalf("update a built-in role: %v", err)
		}
		if err := s.DeleteRole(ctx, usersvc.AdminRoleID); !errors.Is(err, usersvc.ErrRoleNotFound) {
			t.Fatalf("delete a built-in role: %v", err)
		}
		page, err := s.ListRoles(ctx, paging.Request{Limit: 1, Total: true})
		if err != nil || len(page.Items) != 1 || page.Items[0].ID != usersvc.AdminRoleID || page.Next == nil || *page.Total != 2 {
			t.Fatalf("first page: %+v %v", page, err)
		}

		u, err := s.Create(ctx, user("c@example.com", false))
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if u, err = s.AssignRole(ctx, u.ID, r.ID); err != nil {
				t.Fatal(err)
			}
		}
		if !u.Permissions.Has("users:read") || u.Permissions.Has("users:write") || len(u.Roles) != 1 {
			t.Fatalf("after assign: %+v", u)
		}
		empty := []string{}
		if _, err := s.UpdateRole(ctx, r.ID, usersvc.RoleChange{Permissions: &empty}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.ByID(ctx, u.ID); got.Permissions.Has("users:read") {
			t.Fatal("a permission taken from the role is still held")
		}
		if _, err := s.AssignRole(ctx, u.ID, uuid.New()); !errors.Is(err, usersvc.ErrRoleNotFound) {
			t.Fatalf("assign a missing role: %v", err)
		}
		if _, err := s.AssignRole(ctx, uuid.New(), r.ID); !errors.Is(err, usersvc.ErrNotFound) {
			t.Fatalf("assign to a missing user: %v", err)
		}
		if err := s.DeleteRole(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.ByID(ctx, u.ID); len(got.Roles) != 0 {
			t.Fatalf("a deleted role is still held: %+v", got.Roles)
		}
		if _, err := s.UnassignRole(ctx, u.ID, usersvc.AdminRoleID); err != nil {
			t.Fatalf("unassign what is not held: %v", err)
		}
	})
}

// The store writes in its caller's transaction (txn.Run), so what a
// service appends beside a change commits or rolls back with it.
func TestJoinsTheCallersTransaction(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := userstore.New(db.Ent)
		kept, err := s.Create(ctx, user("kept@example.com", false))
		if err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		var created usersvc.User
		err = txn.Run(ctx, db.Ent, func(ctx context.Context) error {
			if created, err = s.Create(ctx, user("rolled-back@example.com", false)); err != nil {
				return err
			}
			name := "Renamed 日本"
			if _, err := s.Update(ctx, kept.ID, usersvc.Change{FullName: &name}); err != nil {
				return err
			}
			if err := s.Delete(ctx, created.ID); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Run: %v", err)
		}
		if _, err := s.ByID(ctx, created.ID); !errors.Is(err, usersvc.ErrNotFound) {
			t.Errorf("a user created in a rolled-back transaction: %v", err)
		}
		if got, err := s.ByID(ctx, kept.ID); err != nil || got.FullName != kept.FullName {
			t.Errorf("an update in a rolled-back transaction: %q %v", got.FullName, err)
		}
	})
}

// Simultaneous grants and a revoke on one role all apply: each change is
// made against the role as it is when the change runs, not as read
// before.
func TestConcurrentPermissionChangesAllApply(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := userstore.New(db.Ent)
		r, err := s.CreateRole(ctx, usersvc.Role{ID: uuid.New(), Name: "support", Permissions: []string{"notes:read"}})
		if err != nil {
			t.Fatal(err)
		}
		const n = 8
		var wg sync.WaitGroup
		errs := make(chan error, n+1)
		for i := range n {
			wg.Go(func() {
				_, err := s.ChangeRolePermissions(ctx, r.ID, []string{"p" + string(rune('a'+i)) + ":read"}, nil)
				errs <- err
			})
		}
		wg.Go(func() {
			_, err := s.ChangeRolePermissions(ctx, r.ID, nil, []string{"notes:read"})
			errs <- err
		})
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.RoleByID(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"pa:read", "pb:read", "pc:read", "pd:read", "pe:read", "pf:read", "pg:read", "ph:read"}
		if !slices.Equal(got.Permissions, want) {
			t.Fatalf("after concurrent changes: %v, want %v", got.Permissions, want)
		}
		if _, err := s.ChangeRolePermissions(ctx, usersvc.AdminRoleID, []string{"x:read"}, nil); !errors.Is(err, usersvc.ErrRoleNotFound) {
			t.Fatalf("a built-in role changed: %v", err)
		}
	})
}

// TestNewAddressIsUnverified: a change of address that no link confirmed
// leaves the account unverified; a confirmed one (VerifiedAt) verifies it.
func TestNewAddressIsUnverified(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := userstore.New(db.Ent)
		at := time.Now().UTC().Truncate(time.Microsecond)
		na := user("zoë@example.com", false)
		na.VerifiedAt = &at
		a, err := s.Create(ctx, na)
		if err != nil || !a.EmailVerified {
			t.Fatalf("created verified: %+v %v", a, err)
		}
		moved := "zoë.neu@example.com"
		if a, err = s.Update(ctx, a.ID, usersvc.Change{Email: &moved}); err != nil || a.EmailVerified || a.EmailVerifiedAt != nil {
			t.Fatalf("an unconfirmed new address is verified: %+v %v", a, err)
		}
		back := "zoë@example.com"
		if a, err = s.Update(ctx, a.ID, usersvc.Change{Email: &back, VerifiedAt: &at}); err != nil || !a.EmailVerified || a.EmailVerifiedAt == nil {
			t.Fatalf("a confirmed address is not verified: %+v %v", a, err)
		}
	})
}

// TestConditionalPasswordWrite: a write over a hash that is no longer the
// stored one (a sign-in's rehash racing with a password change) changes
// nothing and says so.
func TestConditionalPasswordWrite(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		ctx := context.Background()
		s := userstore.New(db.Ent)
		a, err := s.Create(ctx, user("rehash@example.com", false))
		if err != nil {
			t.Fatal(err)
		}
		changed, stale, rehashed := "the changed hash", a.PasswordHash, "a rehash of the old password"
		if _, err := s.Update(ctx, a.ID, usersvc.Change{PasswordHash: &changed}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update(ctx, a.ID, usersvc.Change{PasswordHash: &rehashed, IfPasswordHash: &stale}); !errors.Is(err, usersvc.ErrNotFound) {
			t.Fatalf("a write over a stale hash: %v", err)
		}
		if got, _ := s.ByID(ctx, a.ID); got.PasswordHash != changed {
			t.Fatalf("the password change was undone: %q", got.PasswordHash)
		}
		if got, err := s.Update(ctx, a.ID, usersvc.Change{PasswordHash: &rehashed, IfPasswordHash: &changed}); err != nil || got.PasswordHash != rehashed {
			t.Fatalf("a write over the current hash: %+v %v", got, err)
		}
	})
}
