package usersvc

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/acme/monolith/platform/audit"
	"github.com/acme/monolith/platform/authz"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/paging"
	"github.com/acme/monolith/platform/textfield"
)

// The users module's permissions.
const (
	PermUsersRead   = "users:read"
	PermUsersWrite  = "users:write"
	PermRolesRead   = "roles:read"
	PermRolesWrite  = "roles:write"
	PermRolesAssign = "roles:assign"
	// PermServiceAccountsWrite creates service accounts and their API keys.
	PermServiceAccountsWrite = "service_accounts:write"
)

// Permissions are what the users module declares (authz.Provide).
var Permissions = []authz.Permission{
	{Name: PermUsersRead, Description: "List and read every account"},
	{Name: PermUsersWrite, Description: "Create, change, deactivate and delete accounts (holding at least what the account holds)"},
	{Name: PermRolesRead, Description: "List roles and the permissions they grant"},
	{Name: PermRolesWrite, Description: "Create, rename and delete roles and set their permissions (only permissions you hold)"},
	{Name: PermRolesAssign, Description: "Give roles to accounts and take them away (only roles within your own permissions; never your own)"},
	{Name: PermServiceAccountsWrite, Description: "Create service accounts, and create, list and revoke their API keys (only within your own permissions)"},
}

// AdminRoleID is the built-in admin role, created by the migration that
// introduced roles: it holds every permission, and at least one active
// account always holds it.
var AdminRoleID = uuid.MustParse("00000000-0000-4000-8000-00000000ad01")

// AdminRole is the built-in admin role's name.
const AdminRole = "admin"

// MaxRoleName is the longest role name, in characters.
const MaxRoleName = 64

// Role is a named set of permissions.
type Role struct {
	ID          uuid.UUID
	Name        string
	Permissions []string // sorted; empty when All
	All         bool     // every permission, declared now or later
	Builtin     bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Grants is what the role grants.
func (r Role) Grants() authz.Set {
	if r.All {
		return authz.All()
	}
	return authz.Of(r.Permissions...)
}

// RoleChange is what the store writes to a role: the non-nil fields.
type RoleChange struct {
	Name        *string
	Permissions *[]string
}

// Caller is who asks for an administrative change: the account and what
// it holds. It may never give more than it holds (ASVS 5.0 V8.2.1).
type Caller struct {
	ID          uuid.UUID
	Permissions authz.Set
}

// System is the caller of the operator's commands (the CLI): whoever can
// run them holds the database already.
var System = Caller{Permissions: authz.All()}

// Errors of roles.
var (
	ErrRoleNotFound  = fault.New(fault.NotFound, "role_not_found", "Role not found.")
	ErrRoleNameTaken = fault.New(fault.Conflict, "role_name_taken", "A role with this name already exists.")
	ErrBuiltinRole   = fault.New(fault.Conflict, "builtin_role", "Built-in roles cannot be renamed, changed or deleted.")
	// ErrOwnRoles keeps an account from raising (or arranging) its own
	// privileges: another account must change its roles.
	ErrOwnRoles = fault.New(fault.Forbidden, "cannot_change_own_roles", "You cannot change your own roles; another administrator must.")
	// ErrPermissionNotHeld is a caller giving, taking or editing more than
	// it holds itself.
	ErrPermissionNotHeld = fault.New(fault.Forbidden, "permission_not_held",
		"You can only grant, revoke or act on permissions you hold yourself.")
	ErrUnknownPermission = fault.New(fault.Invalid, "unknown_permission", "is not a declared permission (GET /api/permissions lists them)")
)

// roleName is the rule of a role's name.
var roleName = textfield.Rule{Field: "name", Max: MaxRoleName, Required: true}

// notHeld is ErrPermissionNotHeld naming what is missing.
func notHeld(name string) *fault.Error {
	e := *ErrPermissionNotHeld
	if name == "" {
		e.Message = "Only an admin (a holder of every permission) can do this."
	} else {
		e.Message = "You can only grant, revoke or act on permissions you hold yourself; you do not hold " + name + "."
	}
	return &e
}

// covers is nil when by holds everything s grants.
func (by Caller) covers(s authz.Set) error {
	if ok, missing := by.Permissions.Covers(s); !ok {
		return notHeld(missing)
	}
	return nil
}

// Catalogue returns every permission the modules declared.
func (s *Service) Catalogue() []authz.Permission { return s.perms.All() }

// EffectivePermissions lists the declared permissions set holds, sorted:
// every one for an admin.
func (s *Service) EffectivePermissions(set authz.Set) []string { return set.Names(s.perms) }

// checkPermissions validates a list of permission names: each declared
// (an unknown one is named, at its index), returned sorted and unique.
func (s *Service) checkPermissions(names []string) ([]string, error) {
	out, errs := s.unknownPermissions(names)
	if err := errs.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// unknownPermissions is names sorted and unique, and the error of each
// one not declared.
func (s *Service) unknownPermissions(names []string) ([]string, fault.Multi) {
	var errs fault.Multi
	for i, n := range names {
		if !s.perms.Has(n) {
			e := ErrUnknownPermission.On(fmt.Sprintf("permissions[%d]", i))
			// A well-formed name is no secret: say which; anything else
			// is not echoed.
			if authz.ValidName(n) {
				e.Message = n + " " + e.Message
			}
			errs = append(errs, e)
		}
	}
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out), errs
}

// Roles returns a page of roles in creation order.
func (s *Service) Roles(ctx context.Context, r paging.Request) (paging.Result[Role], error) {
	l, err := s.store.ListRoles(ctx, r)
	if err != nil {
		return paging.Result[Role]{}, fmt.Errorf("list roles: %w", err)
	}
	return l, nil
}

// Role returns one role.
func (s *Service) Role(ctx context.Context, id uuid.UUID) (Role, error) {
	r, err := s.store.RoleByID(ctx, id)
	if err != nil {
		return Role{}, fmt.Errorf("get role: %w", err)
	}
	return r, nil
}

// RoleByName returns the role named name (the CLI names roles).
func (s *Service) RoleByName(ctx context.Context, name string) (Role, error) {
	r, err := s.store.RoleByName(ctx, strings.TrimSpace(name))
	if err != nil {
		return Role{}, fmt.Errorf("get role %q: %w", name, err)
	}
	return r, nil
}

// CreateRole creates a role granting perms, each of which by must hold.
func (s *Service) CreateRole(ctx context.Context, by Caller, name string, perms []string) (Role, error) {
	name = strings.TrimSpace(name)
	var errs fault.Multi
	if err := roleName.Check(name); err != nil {
		errs = append(errs, err)
	}
	perms, unknown := s.unknownPermissions(perms)
	errs = append(errs, unknown...)
	if err := errs.Err(); err != nil {
		return Role{}, err
	}
	if err := by.covers(authz.Of(perms...)); err != nil {
		return Role{}, err
	}
	var r Role
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		if r, err = s.store.CreateRole(ctx, Role{ID: uuid.New(), Name: name, Permissions: perms}); err != nil {
			return err
		}
		return s.record(ctx, ActionRoleCreated, targetRole, r.ID, rolePayload(r))
	})
	if err != nil {
		return Role{}, fmt.Errorf("create role: %w", err)
	}
	return r, nil
}

// RenameRole renames a role that is not built in.
func (s *Service) RenameRole(ctx context.Context, id uuid.UUID, name string) (Role, error) {
	name = strings.TrimSpace(name)
	if err := roleName.Check(name); err != nil {
		return Role{}, err
	}
	if _, err := s.editable(ctx, id); err != nil {
		return Role{}, fmt.Errorf("rename role: %w", err)
	}
	r, err := s.updateRole(ctx, id, RoleChange{Name: &name}, ActionRoleRenamed)
	if err != nil {
		return Role{}, fmt.Errorf("rename role: %w", err)
	}
	return r, nil
}

// SetRolePermissions replaces what a role grants. by must hold every
// permission it adds and every one it takes away: taking one away from
// others is as much a privilege as giving it.
func (s *Service) SetRolePermissions(ctx context.Context, by Caller, id uuid.UUID, perms []string) (Role, error) {
	perms, err := s.checkPermissions(perms)
	if err != nil {
		return Role{}, err
	}
	before, err := s.editable(ctx, id)
	if err != nil {
		return Role{}, fmt.Errorf("set role permissions: %w", err)
	}
	if err := by.covers(authz.Of(append(slices.Clone(before.Permissions), perms...)...)); err != nil {
		return Role{}, err
	}
	r, err := s.updateRole(ctx, id, RoleChange{Permissions: &perms}, ActionRolePermissions)
	if err != nil {
		return Role{}, fmt.Errorf("set role permissions: %w", err)
	}
	return r, nil
}

// ChangeRolePermissions adds and takes away permissions of a role,
// leaving the others as they are at that moment (what `app roles grant`
// and `revoke` do: a read followed by SetRolePermissions would lose a
// change made in between). by must hold each permission it adds or takes
// away. A permission no module declares any more can be taken away.
func (s *Service) ChangeRolePermissions(ctx context.Context, by Caller, id uuid.UUID, add, remove []string) (Role, error) {
	add, err := s.checkPermissions(add)
	if err != nil {
		return Role{}, err
	}
	remove = slices.Compact(slices.Sorted(slices.Values(remove)))
	if _, err := s.editable(ctx, id); err != nil {
		return Role{}, fmt.Errorf("change role permissions: %w", err)
	}
	if err := by.covers(authz.Of(append(slices.Clone(add), remove...)...)); err != nil {
		return Role{}, err
	}
	r, err := s.writeRole(ctx, id, func(ctx context.Context) (Role, error) {
		return s.store.ChangeRolePermissions(ctx, id, add, remove)
	}, ActionRolePermissions)
	if err != nil {
		return Role{}, fmt.Errorf("change role permissions: %w", err)
	}
	return r, nil
}

// DeleteRole deletes a role that is not built in, which by must cover;
// its holders lose it.
func (s *Service) DeleteRole(ctx context.Context, by Caller, id uuid.UUID) error {
	r, err := s.editable(ctx, id)
	if err != nil {
		return fmt.Errorf("delete role: %w", err)
	}
	if err := by.covers(r.Grants()); err != nil {
		return err
	}
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.DeleteRole(ctx, id); err != nil {
			return err
		}
		return s.record(ctx, ActionRoleDeleted, targetRole, id, audit.Payload{"name": audit.Clip(r.Name)})
	})
	if err != nil {
		return fmt.Errorf("delete role: %w", err)
	}
	return nil
}

// rolePayload is what an entry says about a role: its name and grants.
func rolePayload(r Role) audit.Payload {
	p := audit.Payload{"name": audit.Clip(r.Name)}
	if r.All {
		p["permissions"] = "*"
	} else {
		p["permissions"] = audit.Clip(strings.Join(r.Permissions, ","))
	}
	return p
}

// updateRole writes c and records action in the same transaction.
func (s *Service) updateRole(ctx context.Context, id uuid.UUID, c RoleChange, action string) (Role, error) {
	return s.writeRole(ctx, id, func(ctx context.Context) (Role, error) { return s.store.UpdateRole(ctx, id, c) }, action)
}

// writeRole runs write and records action for the role it returns, in
// one transaction.
func (s *Service) writeRole(ctx context.Context, id uuid.UUID, write func(context.Context) (Role, error), action string) (Role, error) {
	var r Role
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		if r, err = write(ctx); err != nil {
			return err
		}
		return s.record(ctx, action, targetRole, id, rolePayload(r))
	})
	return r, err
}

// changeRoles assigns or unassigns with write and records action, the
// user as target and the role in the payload, in one transaction.
func (s *Service) changeRoles(ctx context.Context, userID, roleID uuid.UUID, write func(ctx context.Context, userID, roleID uuid.UUID) (User, error), action string) (User, error) {
	var u User
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		if u, err = write(ctx, userID, roleID); err != nil {
			return err
		}
		return s.record(ctx, action, targetUser, userID, audit.Payload{"role_id": roleID.String()})
	})
	return u, err
}

// editable is the role id, unless it is built in.
func (s *Service) editable(ctx context.Context, id uuid.UUID) (Role, error) {
	r, err := s.store.RoleByID(ctx, id)
	if err != nil {
		return Role{}, err
	}
	if r.Builtin {
		return Role{}, ErrBuiltinRole
	}
	return r, nil
}

// AssignRole gives user the role. Nobody changes their own roles, and by
// must hold everything the role grants (the admin role: be an admin).
func (s *Service) AssignRole(ctx context.Context, by Caller, userID, roleID uuid.UUID) (User, error) {
	if err := s.mayChangeRoles(ctx, by, userID, roleID); err != nil {
		return User{}, fmt.Errorf("assign role: %w", err)
	}
	u, err := s.changeRoles(ctx, userID, roleID, s.store.AssignRole, ActionRoleAssigned)
	if err != nil {
		return User{}, fmt.Errorf("assign role: %w", err)
	}
	return u, nil
}

// UnassignRole takes the role from user, on the same terms as
// AssignRole; the store refuses to take the admin role from the last
// active admin.
func (s *Service) UnassignRole(ctx context.Context, by Caller, userID, roleID uuid.UUID) (User, error) {
	if err := s.mayChangeRoles(ctx, by, userID, roleID); err != nil {
		return User{}, fmt.Errorf("unassign role: %w", err)
	}
	u, err := s.changeRoles(ctx, userID, roleID, s.store.UnassignRole, ActionRoleUnassigned)
	if err != nil {
		return User{}, fmt.Errorf("unassign role: %w", err)
	}
	return u, nil
}

func (s *Service) mayChangeRoles(ctx context.Context, by Caller, userID, roleID uuid.UUID) error {
	if by.ID == userID {
		return ErrOwnRoles
	}
	r, err := s.store.RoleByID(ctx, roleID)
	if err != nil {
		return err
	}
	return by.covers(r.Grants())
}
