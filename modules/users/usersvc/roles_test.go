package usersvc_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/acme/monolith/modules/users/usersvc"
	"github.com/acme/monolith/platform/authz"
)

// helpdesk is a caller holding some of the users module's permissions,
// not all: what a delegated administrator looks like.
func (f *fixture) helpdesk(perms ...string) usersvc.Caller {
	return usersvc.Caller{ID: f.user.ID, Permissions: authz.Of(perms...)}
}

// TestRoleNamesAndPermissionsAreChecked: names are counted in
// characters and bounded, blank ones refused; every permission must be
// declared, and an unknown one is named at its index (a malformed one is
// not echoed); the stored list is sorted and unique.
func TestRoleNamesAndPermissionsAreChecked(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	name := strings.Repeat("役", usersvc.MaxRoleName)
	r, err := f.svc.CreateRole(ctx, usersvc.System, name, []string{"users:write", "notes:write", "users:write"})
	if err != nil {
		t.Fatalf("%d characters (%d bytes): %v", usersvc.MaxRoleName, len(name), err)
	}
	if !slices.Equal(r.Permissions, []string{"notes:write", "users:write"}) {
		t.Fatalf("permissions = %v", r.Permissions)
	}
	if _, err := f.svc.CreateRole(ctx, usersvc.System, name+"役", nil); !slices.Equal(fields(err), []string{"name:too_long"}) {
		t.Fatalf("one character more: %v", err)
	}
	if _, err := f.svc.CreateRole(ctx, usersvc.System, "  ", nil); !slices.Equal(fields(err), []string{"name:blank"}) {
		t.Fatalf("blank: %v", err)
	}
	_, err = f.svc.CreateRole(ctx, usersvc.System, "x", []string{"users:read", "notes:wrtie", "Not A Name; secret"})
	if got := fields(err); !slices.Equal(got, []string{"permissions[1]:unknown_permission", "permissions[2]:unknown_permission"}) {
		t.Fatalf("unknown permissions: %v", got)
	}
	if !strings.Contains(err.Error(), "notes:wrtie is not a declared permission") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("an unknown name is named, a malformed one not echoed: %v", err)
	}
	if _, err := f.svc.CreateRole(ctx, usersvc.System, name, nil); !errors.Is(err, usersvc.ErrRoleNameTaken) {
		t.Fatalf("taken: %v", err)
	}
	if _, err := f.svc.SetRolePermissions(ctx, usersvc.System, r.ID, []string{"nobody:declared"}); !slices.Equal(fields(err), []string{"permissions[0]:unknown_permission"}) {
		t.Fatalf("set unknown: %v", err)
	}
	if _, err := f.svc.ChangeRolePermissions(ctx, usersvc.System, r.ID, []string{"nobody:declared"}, nil); !slices.Equal(fields(err), []string{"permissions[0]:unknown_permission"}) {
		t.Fatalf("add unknown: %v", err)
	}
	// A permission no module declares any more can still be taken away.
	if _, err := f.store.UpdateRole(ctx, r.ID, usersvc.RoleChange{Permissions: ptr([]string{"gone:read", "users:read"})}); err != nil {
		t.Fatal(err)
	}
	if got, err := f.svc.ChangeRolePermissions(ctx, usersvc.System, r.ID, []string{"notes:write"}, []string{"gone:read"}); err != nil || !slices.Equal(got.Permissions, []string{"notes:write", "users:read"}) {
		t.Fatalf("add one, take away an undeclared one: %+v %v", got, err)
	}
}

// TestBuiltinRolesStay: the admin role cannot be renamed, emptied or
// deleted, not even by the system.
func TestBuiltinRolesStay(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	writes := f.store.writes
	if _, err := f.svc.RenameRole(ctx, usersvc.AdminRoleID, "root"); !errors.Is(err, usersvc.ErrBuiltinRole) {
		t.Errorf("rename: %v", err)
	}
	if _, err := f.svc.SetRolePermissions(ctx, usersvc.System, usersvc.AdminRoleID, []string{}); !errors.Is(err, usersvc.ErrBuiltinRole) {
		t.Errorf("empty: %v", err)
	}
	if err := f.svc.DeleteRole(ctx, usersvc.System, usersvc.AdminRoleID); !errors.Is(err, usersvc.ErrBuiltinRole) {
		t.Errorf("delete: %v", err)
	}
	if _, err := f.svc.ChangeRolePermissions(ctx, usersvc.System, usersvc.AdminRoleID, nil, []string{usersvc.PermUsersRead}); !errors.Is(err, usersvc.ErrBuiltinRole) {
		t.Errorf("take a permission away: %v", err)
	}
	if f.store.writes != writes {
		t.Fatal("a refusal wrote")
	}
}

// TestNoPrivilegeEscalation (ASVS 5.0 V8.2.1, V8.2.2): nobody changes
// their own roles; a caller grants, revokes, assigns and acts on only
// what it holds itself; the admin role and is_superuser are an admin's.
func TestNoPrivilegeEscalation(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	reader, err := f.svc.CreateRole(ctx, usersvc.System, "reader", []string{usersvc.PermUsersRead})
	if err != nil {
		t.Fatal(err)
	}
	writer, err := f.svc.CreateRole(ctx, usersvc.System, "writer", []string{usersvc.PermUsersWrite})
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.svc.Create(ctx, usersvc.System, usersvc.NewUser{Email: "grace@example.com", Password: userPassword, IsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	desk := f.helpdesk(usersvc.PermRolesAssign, usersvc.PermRolesWrite, usersvc.PermUsersRead, usersvc.PermUsersWrite)

	// Its own roles, even one it could give others.
	if _, err := f.svc.AssignRole(ctx, desk, f.user.ID, reader.ID); !errors.Is(err, usersvc.ErrOwnRoles) {
		t.Errorf("assign itself: %v", err)
	}
	if _, err := f.svc.UnassignRole(ctx, f.asAdmin(), f.admin.ID, usersvc.AdminRoleID); !errors.Is(err, usersvc.ErrOwnRoles) {
		t.Errorf("an admin unassigns its own admin role: %v", err)
	}
	// Within what it holds: allowed (the control).
	if u, err := f.svc.AssignRole(ctx, desk, other.ID, reader.ID); err != nil || !u.Permissions.Has(usersvc.PermUsersRead) {
		t.Fatalf("assign within its permissions: %+v %v", u, err)
	}
	narrow := f.helpdesk(usersvc.PermRolesAssign, usersvc.PermRolesWrite, usersvc.PermUsersRead)
	for name, err := range map[string]error{
		"assign a role beyond it": second(f.svc.AssignRole(ctx, narrow, other.ID, writer.ID)),
		"assign admin":            second(f.svc.AssignRole(ctx, desk, other.ID, usersvc.AdminRoleID)),
		"create a role beyond it": second(f.svc.CreateRole(ctx, narrow, "mine", []string{usersvc.PermUsersWrite})),
		"grant beyond it":         second(f.svc.SetRolePermissions(ctx, narrow, reader.ID, []string{usersvc.PermUsersRead, usersvc.PermUsersWrite})),
		"revoke beyond it":        second(f.svc.SetRolePermissions(ctx, narrow, writer.ID, []string{})),
		"add beyond it":           second(f.svc.ChangeRolePermissions(ctx, narrow, reader.ID, []string{usersvc.PermUsersWrite}, nil)),
		"take away beyond it":     second(f.svc.ChangeRolePermissions(ctx, narrow, writer.ID, nil, []string{usersvc.PermUsersWrite})),
		"delete a role beyond it": f.svc.DeleteRole(ctx, narrow, writer.ID),
		"create an admin":         second(f.svc.Create(ctx, desk, usersvc.NewUser{Email: "eve@example.com", Password: userPassword, Admin: true})),
		"promote to admin":        second(f.svc.Update(ctx, desk, other.ID, usersvc.Patch{Admin: ptr(true)})),
		"take over an admin":      second(f.svc.Update(ctx, desk, f.admin.ID, usersvc.Patch{Password: ptr("a new long passphrase")})),
		"deactivate an admin":     second(f.svc.Update(ctx, desk, f.admin.ID, usersvc.Patch{IsActive: ptr(false)})),
		"delete an admin":         f.svc.Delete(ctx, desk, f.admin.ID),
	} {
		if !errors.Is(err, usersvc.ErrPermissionNotHeld) {
			t.Errorf("%s: %v, want permission_not_held", name, err)
		}
	}
	if u, _ := f.store.ByID(ctx, f.admin.ID); !u.IsAdmin() || !u.IsActive || u.PasswordHash != "h:admin passphrase long" {
		t.Fatalf("the admin was changed: %+v", u)
	}
	// An admin may do all of it.
	if u, err := f.svc.AssignRole(ctx, f.asAdmin(), other.ID, usersvc.AdminRoleID); err != nil || !u.IsAdmin() {
		t.Fatalf("an admin makes an admin: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }
