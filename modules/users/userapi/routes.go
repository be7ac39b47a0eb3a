// Package userapi exposes the users module over HTTP: routing, status codes
// and input validation. Business rules live in usersvc; this package never
// touches the database.
package userapi

import (
	"context"
	"net/http"
	"reflect"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/google/uuid"

	"github.com/acme/monolith/modules/users/userschema"
	"github.com/acme/monolith/modules/users/usersvc"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/paging"
	"github.com/acme/monolith/platform/password"
	"github.com/acme/monolith/platform/throttle"
)

// Routes registers the users operations.
type Routes struct {
	svc  *usersvc.Service
	auth *authn.Resolver
}

// New returns the routes.
func New(svc *usersvc.Service, auth *authn.Resolver) *Routes {
	return &Routes{svc: svc, auth: auth}
}

const tag = "users"

// Path is the users collection; every users operation but register lives
// under it, and tests reach the collection by this name.
const Path = "/api/users"

type userOut struct {
	Body userschema.User
}

type idPath struct {
	ID uuid.UUID `path:"id" doc:"User id."`
}

// Register implements httpserver.Routes.
func (r *Routes) Register(api huma.API) {
	// Each operation declares the domain errors it answers with, so the
	// document shows their codes as examples of its error responses.
	huma.Register(api, authn.Public(httpserver.WithErrors(huma.Operation{
		OperationID: "register", Method: http.MethodPost, Path: "/api/auth/register",
		Summary: "Create an account (open signup)", Tags: []string{"auth"},
		DefaultStatus: http.StatusCreated,
		Description: "Each client address may register a limited number of times per window " +
			"(REGISTER_THROTTLE_IP_LIMIT per REGISTER_THROTTLE_WINDOW), successful or not: 429 with Retry-After after that.\n\n" +
			"With `EMAIL_VERIFICATION` off: 201 with the new account (409 `email_taken` for a taken address). " +
			"With it on (`optional` or `required`): 202 with the same message whether the address is new or taken, " +
			"so registration tells nobody which addresses have accounts (ASVS 5.0 V6.3.8); a new address is mailed " +
			"a verification link (`POST /api/auth/verify-email`), the holder of a taken one a mail saying someone tried.",
		Responses: registerResponses(api),
	}, usersvc.ErrSignupDisabled, usersvc.ErrEmailTaken, throttle.ErrLimited, password.ErrBusy,
		password.ErrCommon.On("password"), usersvc.ErrInvalidEmail.On("email"))), r.register)

	huma.Register(api, r.auth.Protect(api, huma.Operation{
		OperationID: "get-me", Method: http.MethodGet, Path: Path + "/me",
		Summary: "The signed-in user", Tags: []string{tag},
		Description: "With `permissions`: everything the account's roles grant now.",
	}), r.me)
	huma.Register(api, r.auth.Protect(api, httpserver.WithErrors(huma.Operation{
		OperationID: "update-me", Method: http.MethodPatch, Path: Path + "/me",
		Summary: "Change your email or full name", Tags: []string{tag},
		Description: "A new `email` needs `current_password` in the same request (missing: 422 `required`, " +
			"wrong: 422 `incorrect_password`, both on `body.current_password`) and a recent sign-in (`AUTH_STEP_UP_MAX_AGE`: " +
			"otherwise 401 `reauthentication_required` with RFC 9470's `insufficient_user_authentication` challenge); " +
			"the old address is told of the change. With `EMAIL_VERIFICATION` on, the change waits for the new address: " +
			"it is mailed a confirmation link (`POST /api/auth/confirm-email`) and the old one a notice; the answer keeps the " +
			"old `email` (it still signs in) and names the new one in `pending_email`; `DELETE /api/users/me/email-change` cancels.",
	}, authn.ErrReauthenticate, authn.ErrSessionRequired, usersvc.ErrEmailTaken, usersvc.ErrCurrentPasswordRequired.On("current_password"),
		usersvc.ErrIncorrectPassword.On("current_password"), password.ErrBusy)), r.updateMe)
	huma.Register(api, r.auth.ProtectSession(api, huma.Operation{
		OperationID: "cancel-email-change", Method: http.MethodDelete, Path: Path + "/me/email-change",
		Summary: "Cancel your pending email change", Tags: []string{tag}, DefaultStatus: http.StatusNoContent,
		Description: "The confirmation link mailed to the new address stops working; 204 also when none was pending.",
	}), r.cancelEmailChange)
	huma.Register(api, r.auth.Protect(api, httpserver.WithErrors(authn.Recent(huma.Operation{
		OperationID: "change-password", Method: http.MethodPost, Path: Path + "/me/password",
		Summary: "Change your password", Tags: []string{tag}, DefaultStatus: http.StatusNoContent,
	}), authn.ErrReauthenticate, authn.ErrSessionRequired, usersvc.ErrIncorrectPassword.On("current_password"), usersvc.ErrSamePassword.On("new_password"),
		password.ErrCommon.On("new_password"), password.ErrBusy)), r.changePassword)

	huma.Register(api, r.auth.Require(api, httpserver.WithErrors(huma.Operation{
		OperationID: "list-users", Method: http.MethodGet, Path: Path,
		Summary: "List users", Tags: []string{tag},
		Description: "Oldest first, a page at a time: pass `next` as `cursor` for the following page " +
			"(also in the `Link` header); `total=true` adds the number of users.",
	}, paging.ErrInvalidCursor), usersvc.PermUsersRead), r.list)
	huma.Register(api, r.auth.Require(api, httpserver.WithErrors(huma.Operation{
		OperationID: "create-user", Method: http.MethodPost, Path: Path,
		Summary: "Create a user", Tags: []string{tag}, DefaultStatus: http.StatusCreated,
		Description: "`is_superuser` gives the account the admin role: only an admin may (403 `permission_not_held`).",
	}, usersvc.ErrEmailTaken, usersvc.ErrPermissionNotHeld, password.ErrCommon.On("password"), password.ErrBusy), usersvc.PermUsersWrite), r.create)
	huma.Register(api, r.auth.Require(api, httpserver.WithErrors(huma.Operation{
		OperationID: "get-user", Method: http.MethodGet, Path: Path + "/{id}",
		Summary: "Get a user", Tags: []string{tag},
	}, usersvc.ErrNotFound), usersvc.PermUsersRead), r.get)
	huma.Register(api, r.auth.Require(api, httpserver.WithErrors(huma.Operation{
		OperationID: "update-user", Method: http.MethodPatch, Path: Path + "/{id}",
		Summary: "Update a user", Tags: []string{tag},
		Description: "A changed email or password is told to the account holder. On your own id, `email` and " +
			"`password` are refused (403 `self_service_required`): change them at /api/users/me, with your current password. " +
			"You must hold every permission the account holds, and `is_superuser` (the admin role) is an admin's to give or take " +
			"(403 `permission_not_held`). Demoting or deactivating the last active admin is refused (409 `last_superuser`).",
	}, usersvc.ErrNotFound, usersvc.ErrSelfService, usersvc.ErrDemoteSelf, usersvc.ErrPermissionNotHeld, usersvc.ErrEmailTaken,
		usersvc.ErrLastSuperuser, password.ErrBusy), usersvc.PermUsersWrite), r.update)
	huma.Register(api, r.auth.Require(api, httpserver.WithErrors(huma.Operation{
		OperationID: "delete-user", Method: http.MethodDelete, Path: Path + "/{id}",
		Summary: "Delete a user", Tags: []string{tag}, DefaultStatus: http.StatusNoContent,
		Description: "You must hold every permission the account holds (403 `permission_not_held`). " +
			"The last active admin cannot be deleted (409 `last_superuser`).",
	}, usersvc.ErrNotFound, usersvc.ErrDeleteSelf, usersvc.ErrPermissionNotHeld, usersvc.ErrLastSuperuser), usersvc.PermUsersWrite), r.delete)

	r.registerRoles(api)
	huma.Register(api, r.auth.Require(api, httpserver.WithErrors(huma.Operation{
		OperationID: "create-service-account", Method: http.MethodPost, Path: "/api/service-accounts",
		Summary: "Create a service account", Tags: []string{tag}, DefaultStatus: http.StatusCreated,
		Description: "A non-human account: give it roles like any account (`PUT /api/users/{id}/roles/{role_id}`); " +
			"it has no password (sign-in and password reset answer as for an unknown email) and acts only through " +
			"API keys created for it (`POST /api/service-accounts/{id}/api-keys`).",
	}, usersvc.ErrEmailTaken, usersvc.ErrInvalidEmail.On("email")), usersvc.PermServiceAccountsWrite), r.createServiceAccount)
}

func (r *Routes) createServiceAccount(ctx context.Context, in *struct{ Body userschema.NewServiceAccount }) (*userOut, error) {
	u, err := r.svc.CreateServiceAccount(ctx, in.Body.Email, in.Body.FullName)
	if err != nil {
		return nil, err
	}
	return &userOut{Body: toDTO(u)}, nil
}

// registerOut is a new account (201) or, with verification on, the one
// answer for new and taken addresses alike (202).
type registerOut struct {
	Status int
	Body   any
}

// registerResponses documents both answers of register: its body type
// is chosen at run time, so huma cannot derive them.
func registerResponses(api huma.API) map[string]*huma.Response {
	reg := api.OpenAPI().Components.Schemas
	content := func(v any) map[string]*huma.MediaType {
		return map[string]*huma.MediaType{"application/json": {Schema: reg.Schema(reflect.TypeOf(v), true, "")}}
	}
	return map[string]*huma.Response{
		"201": {Description: "The new account (EMAIL_VERIFICATION off).", Content: content(userschema.User{})},
		"202": {Description: "A mail is on its way (EMAIL_VERIFICATION on), whether or not the address was taken.", Content: content(userschema.Registered{})},
	}
}

// registeredMessage is the one answer of a registration with verification on.
const registeredMessage = "Check your mailbox: a link to verify the address is on its way."

func (r *Routes) register(ctx context.Context, in *struct{ Body userschema.Register }) (*registerOut, error) {
	reg, err := r.svc.Register(ctx, in.Body.Email, in.Body.Password, in.Body.FullName, httpserver.ClientIP(ctx))
	if err != nil {
		return nil, err
	}
	if reg.Pending {
		return &registerOut{Status: http.StatusAccepted, Body: userschema.Registered{Message: registeredMessage}}, nil
	}
	return &registerOut{Status: http.StatusCreated, Body: toDTO(reg.User)}, nil
}

func (r *Routes) cancelEmailChange(ctx context.Context, _ *struct{}) (*struct{}, error) {
	p, err := authn.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	return nil, r.svc.CancelEmailChange(ctx, p.UserID)
}

type meOut struct {
	Body userschema.Me
}

func (r *Routes) me(ctx context.Context, _ *struct{}) (*meOut, error) {
	p, err := authn.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	u := r.svc.Me(p)
	return &meOut{Body: userschema.Me{User: toDTO(u), Permissions: r.svc.EffectivePermissions(u.Permissions)}}, nil
}

// caller is the signed-in administrator making a change.
func caller(ctx context.Context) (usersvc.Caller, error) {
	p, err := authn.CurrentUser(ctx)
	if err != nil {
		return usersvc.Caller{}, err
	}
	return usersvc.Caller{ID: p.UserID, Permissions: p.Permissions}, nil
}

type profileOut struct {
	Body userschema.ProfileUpdated
}

func (r *Routes) updateMe(ctx context.Context, in *struct{ Body userschema.UpdateMe }) (*profileOut, error) {
	p, err := authn.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	b := in.Body
	if b.Email != nil && !strings.EqualFold(*b.Email, p.Email) {
		if err := r.auth.CheckRecent(ctx); err != nil {
			return nil, err
		}
	}
	u, err := r.svc.UpdateProfile(ctx, p.UserID, usersvc.ProfilePatch{Email: b.Email, FullName: b.FullName, CurrentPassword: b.CurrentPassword})
	if err != nil {
		return nil, err
	}
	out := &profileOut{Body: userschema.ProfileUpdated{User: toDTO(u)}}
	if b.Email != nil {
		// The service took the address or left it pending; it was valid.
		if norm, err := authn.NormalizeEmail(*b.Email); err == nil && norm != u.Email {
			out.Body.PendingEmail = norm
		}
	}
	return out, nil
}

func (r *Routes) changePassword(ctx context.Context, in *struct{ Body userschema.ChangePassword }) (*struct{}, error) {
	p, err := authn.CurrentUser(ctx)
	if err != nil {
		return nil, err
	}
	return nil, r.svc.ChangePassword(ctx, p.UserID, in.Body.CurrentPassword, in.Body.NewPassword)
}

// usersList names the list in its cursors, so that another list's cursor
// is refused here.
const usersList = "users"

func (r *Routes) list(ctx context.Context, in *struct{ paging.Params }) (*paging.Response[userschema.User], error) {
	req, err := in.Request(usersList)
	if err != nil {
		return nil, err
	}
	l, err := r.svc.List(ctx, req)
	if err != nil {
		return nil, err
	}
	return paging.Respond(usersList, Path, req, l, toDTO), nil
}

func (r *Routes) create(ctx context.Context, in *struct{ Body userschema.Create }) (*userOut, error) {
	by, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	active := true
	if in.Body.IsActive != nil {
		active = *in.Body.IsActive
	}
	u, err := r.svc.Create(ctx, by, usersvc.NewUser{
		Email: in.Body.Email, Password: in.Body.Password, FullName: in.Body.FullName,
		IsActive: active, Admin: in.Body.IsSuperuser,
	})
	if err != nil {
		return nil, err
	}
	return &userOut{Body: toDTO(u)}, nil
}

func (r *Routes) get(ctx context.Context, in *idPath) (*userOut, error) {
	u, err := r.svc.Get(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &userOut{Body: toDTO(u)}, nil
}

type updateIn struct {
	ID   uuid.UUID `path:"id" doc:"User id."`
	Body userschema.Update
}

func (r *Routes) update(ctx context.Context, in *updateIn) (*userOut, error) {
	by, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	b := in.Body
	u, err := r.svc.Update(ctx, by, in.ID, usersvc.Patch{
		Email: b.Email, FullName: b.FullName, Password: b.Password, IsActive: b.IsActive, Admin: b.IsSuperuser,
	})
	if err != nil {
		return nil, err
	}
	return &userOut{Body: toDTO(u)}, nil
}

func (r *Routes) delete(ctx context.Context, in *idPath) (*struct{}, error) {
	by, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	return nil, r.svc.Delete(ctx, by, in.ID)
}

func toDTO(u usersvc.User) userschema.User {
	roles := make([]userschema.RoleRef, len(u.Roles))
	for i, ro := range u.Roles {
		roles[i] = userschema.RoleRef{ID: ro.ID, Name: ro.Name}
	}
	return userschema.User{
		ID: u.ID, Email: u.Email, FullName: u.FullName, IsActive: u.IsActive, Kind: u.Kind,
		IsSuperuser: u.IsAdmin(), Roles: roles, EmailVerified: u.EmailVerified, EmailVerifiedAt: u.EmailVerifiedAt,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}
