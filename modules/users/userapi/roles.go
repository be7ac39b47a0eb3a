package userapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/acme/monolith/modules/users/userschema"
	"github.com/acme/monolith/modules/users/usersvc"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/paging"
)

const rolesTag = "roles"

// rolesList names the list in its cursors.
const rolesList = "roles"

type roleOut struct {
	Body userschema.Role
}

type roleIDPath struct {
	ID uuid.UUID `path:"id" doc:"Role id."`
}

type membershipPath struct {
	ID     uuid.UUID `path:"id" doc:"User id."`
	RoleID uuid.UUID `path:"role_id" doc:"Role id."`
}

func (r *Routes) registerRoles(api huma.API) {
	huma.Register(api, r.auth.Require(api, huma.Operation{
		OperationID: "list-permissions", Method: http.MethodGet, Path: "/api/permissions",
		Summary: "List every permission the modules declare", Tags: []string{rolesTag},
		Description: "Sorted by name, all at once: the set is declared by the code, not stored.",
	}, usersvc.PermRolesRead), r.permissions)
	huma.Register(api, r.auth.Require(api, httpserver.WithErrors(huma.Operation{
		OperationID: "list-roles", Method: http.MethodGet, Path: "/api/roles",
		Summary: "List roles", Tags: []string{rolesTag},
		Description: "Oldest first, a page at a time (docs/api.md); the built-in `admin` role is among them.",
	}, paging.ErrInvalidCursor), usersvc.PermRolesRead), r.listRoles)
	huma.Register(api, r.auth.Require(api, httpserver.WithErrors(authn.Recent(huma.Operation{
		OperationID: "create-role", Method: http.MethodPost, Path: "/api/roles",
		Summary: "Create a role", Tags: []string{rolesTag}, DefaultStatus: http.StatusCreated,
		Description: "Each permission must be declared (422 `unknown_permission` at its index) and held by you (403 `permission_not_held`).",
	}), authn.ErrReauthenticate, authn.ErrSessionRequired, usersvc.ErrRoleNameTaken, usersvc.ErrPermissionNotHeld, usersvc.ErrUnknownPermission.On("permissions[0]")), usersvc.PermRolesWrite), r.createRole)
	huma.Register(api, r.auth.Require(api, httpserver.WithErrors(huma.Operation{
		OperationID: "get-role", Method: http.MethodGet, Path: "/api/roles/{id}",
		Summary: "Get a role", Tags: []string{rolesTag},
	}, usersvc.ErrRoleNotFound), usersvc.PermRolesRead), r.getRole)
	huma.Register(api, r.auth.Require(api, httpserver.WithErrors(authn.Recent(huma.Operation{
		OperationID: "rename-role", Method: http.MethodPatch, Path: "/api/roles/{id}",
		Summary: "Rename a role", Tags: []string{rolesTag},
		Description: "Built-in roles keep their names (409 `builtin_role`).",
	}), authn.ErrReauthenticate, authn.ErrSessionRequired, usersvc.ErrRoleNotFound, usersvc.ErrRoleNameTaken, usersvc.ErrBuiltinRole), usersvc.PermRolesWrite), r.renameRole)
	huma.Register(api, r.auth.Require(api, httpserver.WithErrors(authn.Recent(huma.Operation{
		OperationID: "set-role-permissions", Method: http.MethodPut, Path: "/api/roles/{id}/permissions",
		Summary: "Set the permissions a role grants", Tags: []string{rolesTag},
		Description: "The whole new set. Every permission added or removed must be one you hold (403 `permission_not_held`); " +
			"built-in roles cannot be changed (409 `builtin_role`). The role's holders have the new set from their next request.",
	}), authn.ErrReauthenticate, authn.ErrSessionRequired, usersvc.ErrRoleNotFound, usersvc.ErrBuiltinRole, usersvc.ErrPermissionNotHeld, usersvc.ErrUnknownPermission.On("permissions[0]")),
		usersvc.PermRolesWrite), r.setRolePermissions)
	huma.Register(api, r.auth.Require(api, httpserver.WithErrors(authn.Recent(huma.Operation{
		OperationID: "delete-role", Method: http.MethodDelete, Path: "/api/roles/{id}",
		Summary: "Delete a role", Tags: []string{rolesTag}, DefaultStatus: http.StatusNoContent,
		Description: "Its holders lose it. Built-in roles cannot be deleted (409 `builtin_role`).",
	}), authn.ErrReauthenticate, authn.ErrSessionRequired, usersvc.ErrRoleNotFound, usersvc.ErrBuiltinRole, usersvc.ErrPermissionNotHeld), usersvc.PermRolesWrite), r.deleteRole)

	huma.Register(api, r.auth.Require(api, httpserver.WithErrors(authn.Recent(huma.Operation{
		OperationID: "assign-role", Method: http.MethodPut, Path: "/api/users/{id}/roles/{role_id}",
		Summary: "Give a user a role", Tags: []string{tag},
		Description: "Idempotent. Not your own roles (403 `cannot_change_own_roles`), and only a role whose every permission " +
			"you hold (403 `permission_not_held`; the admin role: be an admin).",
	}), authn.ErrReauthenticate, authn.ErrSessionRequired, usersvc.ErrNotFound, usersvc.ErrRoleNotFound, usersvc.ErrOwnRoles, usersvc.ErrPermissionNotHeld), usersvc.PermRolesAssign), r.assignRole)
	huma.Register(api, r.auth.Require(api, httpserver.WithErrors(authn.Recent(huma.Operation{
		OperationID: "unassign-role", Method: http.MethodDelete, Path: "/api/users/{id}/roles/{role_id}",
		Summary: "Take a role from a user", Tags: []string{tag},
		Description: "Idempotent, on the same terms as giving it. The admin role is never taken from the last active admin (409 `last_superuser`).",
	}), authn.ErrReauthenticate, authn.ErrSessionRequired, usersvc.ErrNotFound, usersvc.ErrRoleNotFound, usersvc.ErrOwnRoles, usersvc.ErrPermissionNotHeld, usersvc.ErrLastSuperuser),
		usersvc.PermRolesAssign), r.unassignRole)
}

func (r *Routes) permissions(context.Context, *struct{}) (*struct{ Body userschema.Permissions }, error) {
	out := &struct{ Body userschema.Permissions }{Body: userschema.Permissions{Items: []userschema.Permission{}}}
	for _, p := range r.svc.Catalogue() {
		out.Body.Items = append(out.Body.Items, userschema.Permission{Name: p.Name, Description: p.Description})
	}
	return out, nil
}

func (r *Routes) listRoles(ctx context.Context, in *struct{ paging.Params }) (*paging.Response[userschema.Role], error) {
	req, err := in.Request(rolesList)
	if err != nil {
		return nil, err
	}
	l, err := r.svc.Roles(ctx, req)
	if err != nil {
		return nil, err
	}
	return paging.Respond(rolesList, "/api/roles", req, l, roleDTO), nil
}

func (r *Routes) createRole(ctx context.Context, in *struct{ Body userschema.CreateRole }) (*roleOut, error) {
	by, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	ro, err := r.svc.CreateRole(ctx, by, in.Body.Name, in.Body.Permissions)
	if err != nil {
		return nil, err
	}
	return &roleOut{Body: roleDTO(ro)}, nil
}

func (r *Routes) getRole(ctx context.Context, in *roleIDPath) (*roleOut, error) {
	ro, err := r.svc.Role(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &roleOut{Body: roleDTO(ro)}, nil
}

func (r *Routes) renameRole(ctx context.Context, in *struct {
	ID   uuid.UUID `path:"id" doc:"Role id."`
	Body userschema.RenameRole
}) (*roleOut, error) {
	ro, err := r.svc.RenameRole(ctx, in.ID, in.Body.Name)
	if err != nil {
		return nil, err
	}
	return &roleOut{Body: roleDTO(ro)}, nil
}

func (r *Routes) setRolePermissions(ctx context.Context, in *struct {
	ID   uuid.UUID `path:"id" doc:"Role id."`
	Body userschema.RolePermissions
}) (*roleOut, error) {
	by, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	ro, err := r.svc.SetRolePermissions(ctx, by, in.ID, in.Body.Permissions)
	if err != nil {
		return nil, err
	}
	return &roleOut{Body: roleDTO(ro)}, nil
}

func (r *Routes) deleteRole(ctx context.Context, in *roleIDPath) (*struct{}, error) {
	by, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	return nil, r.svc.DeleteRole(ctx, by, in.ID)
}

func (r *Routes) assignRole(ctx context.Context, in *membershipPath) (*userOut, error) {
	by, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	u, err := r.svc.AssignRole(ctx, by, in.ID, in.RoleID)
	if err != nil {
		return nil, err
	}
	return &userOut{Body: toDTO(u)}, nil
}

func (r *Routes) unassignRole(ctx context.Context, in *membershipPath) (*userOut, error) {
	by, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	u, err := r.svc.UnassignRole(ctx, by, in.ID, in.RoleID)
	if err != nil {
		return nil, err
	}
	return &userOut{Body: toDTO(u)}, nil
}

func roleDTO(ro usersvc.Role) userschema.Role {
	perms := ro.Permissions
	if perms == nil {
		perms = []string{}
	}
	return userschema.Role{
		ID: ro.ID, Name: ro.Name, Permissions: perms, AllPermissions: ro.All, Builtin: ro.Builtin,
		CreatedAt: ro.CreatedAt, UpdatedAt: ro.UpdatedAt,
	}
}
