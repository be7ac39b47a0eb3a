package userstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/acme/monolith/ent"
	"github.com/acme/monolith/ent/role"
	"github.com/acme/monolith/ent/user"
	"github.com/acme/monolith/modules/users/usersvc"
	"github.com/acme/monolith/platform/paging"
	"github.com/acme/monolith/platform/paging/keyset"
)

// ListRoles returns a page of roles in the list order (creation time,
// then id), and the total count when asked.
func (s *Store) ListRoles(ctx context.Context, r paging.Request) (paging.Result[usersvc.Role], error) {
	rows, err := s.client(ctx).Role.Query().
		Where(keyset.After(r.After)).
		Order(keyset.Order).
		Limit(r.Limit + 1).
		All(ctx)
	if err != nil {
		return paging.Result[usersvc.Role]{}, fmt.Errorf("list roles: %w", err)
	}
	out := make([]usersvc.Role, len(rows))
	for i, row := range rows {
		out[i] = roleDomain(row)
	}
	page := paging.Trim(out, r.Limit, func(ro usersvc.Role) paging.Cursor {
		return paging.Cursor{CreatedAt: ro.CreatedAt, ID: ro.ID}
	})
	if r.Total {
		n, err := s.client(ctx).Role.Query().Count(ctx)
		if err != nil {
			return paging.Result[usersvc.Role]{}, fmt.Errorf("count roles: %w", err)
		}
		page.Total = &n
	}
	return page, nil
}

// RoleByID finds a role.
func (s *Store) RoleByID(ctx context.Context, id uuid.UUID) (usersvc.Role, error) {
	row, err := s.client(ctx).Role.Get(ctx, id)
	if err != nil {
		return usersvc.Role{}, translateRole(err)
	}
	return roleDomain(row), nil
}

// RoleByName finds a role by its exact name.
func (s *Store) RoleByName(ctx context.Context, name string) (usersvc.Role, error) {
	row, err := s.client(ctx).Role.Query().Where(role.Name(name)).Only(ctx)
	if err != nil {
		return usersvc.Role{}, translateRole(err)
	}
	return roleDomain(row), nil
}

// CreateRole inserts a role (never a built-in one: the migration made
// those).
func (s *Store) CreateRole(ctx context.Context, r usersvc.Role) (usersvc.Role, error) {
	row, err := s.client(ctx).Role.Create().
		SetID(r.ID).
		SetName(r.Name).
		SetPermissions(nonNil(r.Permissions)).
		Save(ctx)
	if err != nil {
		return usersvc.Role{}, translateRole(err)
	}
	return roleDomain(row), nil
}

// UpdateRole applies the non-nil fields of c to a role that is not built
// in (the condition is part of the update, so a built-in role is not
// found here whatever the caller checked), and advances the roles'
// version with it: every holder's cached account is stale.
func (s *Store) UpdateRole(ctx context.Context, id uuid.UUID, c usersvc.RoleChange) (usersvc.Role, error) {
	var out usersvc.Role
	err := s.tx(ctx, func(tx *ent.Tx) error {
		u := tx.Role.UpdateOneID(id).Where(role.Builtin(false)).SetNillableName(c.Name)
		if c.Permissions != nil {
			u.SetPermissions(nonNil(*c.Permissions))
		}
		row, err := u.Save(ctx)
		if err != nil {
			return err
		}
		out = roleDomain(row)
		return advanceRoles(ctx, tx)
	})
	if err != nil {
		return usersvc.Role{}, translateRole(err)
	}
	return out, nil
}

// ChangeRolePermissions applies add and remove to the role's current
// permissions while holding its row (Postgres; SQLite transactions are
// IMMEDIATE, so writers queue), so concurrent changes serialize.
func (s *Store) ChangeRolePermissions(ctx context.Context, id uuid.UUID, add, remove []string) (usersvc.Role, error) {
	var out usersvc.Role
	err := s.tx(ctx, func(tx *ent.Tx) error {
		row, err := tx.Role.Query().Where(role.ID(id), role.Builtin(false), lockRow).Only(ctx)
		if err != nil {
			return err
		}
		perms := slices.DeleteFunc(slices.Clone(row.Permissions), func(p string) bool { return slices.Contains(remove, p) })
		perms = slices.Compact(slices.Sorted(slices.Values(append(perms, add...))))
		if row, err = tx.Role.UpdateOneID(id).SetPermissions(nonNil(perms)).Save(ctx); err != nil {
			return err
		}
		out = roleDomain(row)
		return advanceRoles(ctx, tx)
	})
	if err != nil {
		return usersvc.Role{}, translateRole(err)
	}
	return out, nil
}

// DeleteRole deletes a role that is not built in; its memberships go
// with it, and the roles' version advances.
func (s *Store) DeleteRole(ctx context.Context, id uuid.UUID) error {
	err := s.tx(ctx, func(tx *ent.Tx) error {
		n, err := tx.Role.Delete().Where(role.ID(id), role.Builtin(false)).Exec(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			return usersvc.ErrRoleNotFound
		}
		return advanceRoles(ctx, tx)
	})
	if err != nil {
		return translateRole(err)
	}
	return nil
}

// AssignRole gives the user the role; holding it already is no error.
func (s *Store) AssignRole(ctx context.Context, userID, roleID uuid.UUID) (usersvc.User, error) {
	var out usersvc.User
	err := s.tx(ctx, func(tx *ent.Tx) error {
		if err := exists(ctx, tx, userID, roleID); err != nil {
			return err
		}
		has, err := tx.User.Query().Where(user.ID(userID), user.HasRolesWith(role.ID(roleID))).Exist(ctx)
		if err != nil {
			return err
		}
		if !has {
			u := tx.User.UpdateOneID(userID).AddRoleIDs(roleID).AddAuthzVersion(1)
			if roleID == usersvc.AdminRoleID {
				u.SetIsSuperuser(true)
			}
			if err := u.Exec(ctx); err != nil {
				return err
			}
		}
		var seen versions
		if out, seen, err = load(ctx, tx.Client(), user.ID(userID)); err != nil {
			return err
		}
		s.keepOnCommit(tx, out, seen)
		return nil
	})
	if ent.IsConstraintError(err) {
		// A concurrent assignment of the same role won: it is held.
		return s.ByID(ctx, userID)
	}
	if err != nil {
		return usersvc.User{}, translateRole(err)
	}
	return out, nil
}

// UnassignRole takes the role from the user; not holding it is no error.
// The admin role is never taken from the last active admin.
func (s *Store) UnassignRole(ctx context.Context, userID, roleID uuid.UUID) (usersvc.User, error) {
	var out usersvc.User
	err := s.tx(ctx, func(tx *ent.Tx) error {
		if roleID == usersvc.AdminRoleID {
			if err := keepAdmin(ctx, tx, userID); err != nil {
				return err
			}
		}
		if err := exists(ctx, tx, userID, roleID); err != nil {
			return err
		}
		u := tx.User.UpdateOneID(userID).RemoveRoleIDs(roleID).AddAuthzVersion(1)
		if roleID == usersvc.AdminRoleID {
			u.SetIsSuperuser(false)
		}
		if err := u.Exec(ctx); err != nil {
			return err
		}
		var seen versions
		var err error
		if out, seen, err = load(ctx, tx.Client(), user.ID(userID)); err != nil {
			return err
		}
		s.keepOnCommit(tx, out, seen)
		return nil
	})
	if err != nil {
		return usersvc.User{}, translateRole(err)
	}
	return out, nil
}

// exists tells a missing user from a missing role.
func exists(ctx context.Context, tx *ent.Tx, userID, roleID uuid.UUID) error {
	if ok, err := tx.User.Query().Where(user.ID(userID)).Exist(ctx); err != nil {
		return err
	} else if !ok {
		return usersvc.ErrNotFound
	}
	if ok, err := tx.Role.Query().Where(role.ID(roleID)).Exist(ctx); err != nil {
		return err
	} else if !ok {
		return usersvc.ErrRoleNotFound
	}
	return nil
}

func translateRole(err error) error {
	switch {
	case ent.IsNotFound(err):
		return usersvc.ErrRoleNotFound
	case ent.IsConstraintError(err):
		return usersvc.ErrRoleNameTaken
	default:
		return translate(err)
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func roleDomain(r *ent.Role) usersvc.Role {
	return usersvc.Role{
		ID: r.ID, Name: r.Name, Permissions: nonNil(r.Permissions), All: r.AllPermissions, Builtin: r.Builtin,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}
