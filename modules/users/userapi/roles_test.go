package userapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/modules/users/usersvc"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

type role struct {
	ID             uuid.UUID `json:"id"`
	Name           string    `json:"name"`
	Permissions    []string  `json:"permissions"`
	AllPermissions bool      `json:"all_permissions"`
	Builtin        bool      `json:"builtin"`
}

type me struct {
	ID          uuid.UUID `json:"id"`
	IsSuperuser bool      `json:"is_superuser"`
	Roles       []struct {
		ID   uuid.UUID `json:"id"`
		Name string    `json:"name"`
	} `json:"roles"`
	Permissions []string `json:"permissions"`
}

func rolePath(id uuid.UUID) string { return "/api/roles/" + id.String() }

func membership(u, r uuid.UUID) string { return "/api/users/" + u.String() + "/roles/" + r.String() }

// TestPermissionChangesApplyOnTheNextRequest: a user without users:read
// is refused with 403 permission_required naming it and an RFC 6750
// insufficient_scope challenge with the scope; once a role granting it is
// given, the next request passes and /me lists it; once the role no longer
// grants it (or is taken away), the next request fails again, with the
// same access token throughout.
func TestPermissionChangesApplyOnTheNextRequest(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		u := app.NewUser(false)

		res := app.Do(http.MethodGet, "/api/users", nil, testkit.Bearer(u.Token)).Expect(http.StatusForbidden)
		if p := res.Problem(t); p.Code != "permission_required" || p.Detail != "This operation requires the permission users:read." {
			t.Fatalf("403 = %+v", p)
		}
		if h := res.Header.Get("WWW-Authenticate"); !strings.Contains(h, `error="insufficient_scope"`) || !strings.Contains(h, `scope="users:read"`) {
			t.Fatalf("WWW-Authenticate = %q", h)
		}
		var m me
		app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(u.Token)).Expect(http.StatusOK).JSON(t, &m)
		if m.Permissions == nil || len(m.Permissions) != 0 || len(m.Roles) != 0 || m.IsSuperuser {
			t.Fatalf("me before = %+v", m)
		}

		var r role
		app.Do(http.MethodPost, "/api/roles", map[string]any{"name": "auditors", "permissions": []string{"users:read", "roles:read"}}, testkit.Bearer(app.SuperuserToken())).
			Expect(http.StatusCreated).JSON(t, &r)
		app.Do(http.MethodPut, membership(u.ID, r.ID), nil, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusOK)
		app.Do(http.MethodGet, "/api/users", nil, testkit.Bearer(u.Token)).Expect(http.StatusOK)
		app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(u.Token)).Expect(http.StatusOK).JSON(t, &m)
		if !slices.Equal(m.Permissions, []string{"roles:read", "users:read"}) || len(m.Roles) != 1 || m.Roles[0].Name != "auditors" {
			t.Fatalf("me after the grant = %+v", m)
		}
		// Reading is not writing.
		app.Do(http.MethodPost, "/api/roles", map[string]any{"name": "mine"}, testkit.Bearer(u.Token)).Expect(http.StatusForbidden)

		app.Do(http.MethodPut, rolePath(r.ID)+"/permissions", map[string]any{"permissions": []string{"roles:read"}}, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusOK)
		app.Do(http.MethodGet, "/api/users", nil, testkit.Bearer(u.Token)).Expect(http.StatusForbidden)
		app.Do(http.MethodGet, "/api/roles", nil, testkit.Bearer(u.Token)).Expect(http.StatusOK)
		app.Do(http.MethodDelete, membership(u.ID, r.ID), nil, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusOK)
		app.Do(http.MethodGet, "/api/roles", nil, testkit.Bearer(u.Token)).Expect(http.StatusForbidden)
	})
}

// TestNoSelfEscalationOverHTTP (ASVS 5.0 V8.2.1, V8.2.2): a holder of
// roles:assign cannot give itself a role, nor give another a role beyond
// its own permissions (the admin role least of all); a holder of
// roles:write cannot grant a role a permission it lacks; a holder of
// users:write cannot promote to admin or take over an admin.
func TestNoSelfEscalationOverHTTP(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		desk := app.NewUserWith(usersvc.PermRolesAssign, usersvc.PermRolesWrite, usersvc.PermRolesRead, usersvc.PermUsersRead, usersvc.PermUsersWrite)
		other := app.NewUser(false)
		var admin me
		app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusOK).JSON(t, &admin)

		var readers, writers role
		app.Do(http.MethodPost, "/api/roles", map[string]any{"name": "readers", "permissions": []string{"users:read"}}, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusCreated).JSON(t, &readers)
		app.Do(http.MethodPost, "/api/roles", map[string]any{"name": "writers", "permissions": []string{"users:write", "notes:none"}}, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusUnprocessableEntity)
		app.Do(http.MethodPost, "/api/roles", map[string]any{"name": "writers", "permissions": []string{"users:write"}}, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusCreated).JSON(t, &writers)

		code := func(res *testkit.Response, status int, want string) {
			t.Helper()
			if p := expectProblem(t, res, status); p.Code != want {
				t.Fatalf("code %q, want %q (%s)", p.Code, want, p.Detail)
			}
		}
		code(app.Do(http.MethodPut, membership(desk.ID, readers.ID), nil, testkit.Bearer(desk.Token)), http.StatusForbidden, "cannot_change_own_roles")
		code(app.Do(http.MethodPut, membership(desk.ID, usersvc.AdminRoleID), nil, testkit.Bearer(desk.Token)), http.StatusForbidden, "cannot_change_own_roles")
		code(app.Do(http.MethodPut, membership(other.ID, usersvc.AdminRoleID), nil, testkit.Bearer(desk.Token)), http.StatusForbidden, "permission_not_held")
		code(app.Do(http.MethodPost, "/api/roles", map[string]any{"name": "mine", "permissions": []string{"roles:read", "notes:write"}},
			testkit.Bearer(desk.Token)), http.StatusUnprocessableEntity, "validation_failed")
		code(app.Do(http.MethodPatch, "/api/users/"+other.ID.String(), map[string]any{"is_superuser": true}, testkit.Bearer(desk.Token)),
			http.StatusForbidden, "permission_not_held")
		code(app.Do(http.MethodPost, "/api/users", map[string]any{"email": "eve@example.test", "password": "eve passphrase", "is_superuser": true},
			testkit.Bearer(desk.Token)), http.StatusForbidden, "permission_not_held")
		code(app.Do(http.MethodPatch, "/api/users/"+admin.ID.String(), map[string]any{"password": "taken over passphrase"}, testkit.Bearer(desk.Token)),
			http.StatusForbidden, "permission_not_held")
		// Within its own permissions: allowed (the control).
		app.Do(http.MethodPut, membership(other.ID, readers.ID), nil, testkit.Bearer(desk.Token)).Expect(http.StatusOK)
		app.Do(http.MethodPut, membership(other.ID, writers.ID), nil, testkit.Bearer(desk.Token)).Expect(http.StatusOK)

		// A narrower delegate: roles:write and roles:assign only.
		narrow := app.NewUserWith(usersvc.PermRolesWrite, usersvc.PermRolesAssign)
		res := app.Do(http.MethodPut, rolePath(readers.ID)+"/permissions", map[string]any{"permissions": []string{"users:read", "roles:write"}},
			testkit.Bearer(narrow.Token))
		if p := expectProblem(t, res, http.StatusForbidden); p.Code != "permission_not_held" || !strings.Contains(p.Detail, "users:read") {
			t.Fatalf("grant beyond its permissions: %+v", p)
		}
		code(app.Do(http.MethodPut, membership(other.ID, writers.ID), nil, testkit.Bearer(narrow.Token)), http.StatusForbidden, "permission_not_held")
		var after me
		app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(other.Token)).Expect(http.StatusOK).JSON(t, &after)
		if after.IsSuperuser || !slices.Equal(after.Permissions, []string{"users:read", "users:write"}) {
			t.Fatalf("other = %+v", after)
		}
	})
}

// TestRolesAPI: the permission list names every module's with
// descriptions; the built-in admin role is listed, holds all and cannot
// be renamed, emptied or deleted; names count characters (64 of a
// multibyte script pass, 65 do not) and are unique; unknown permissions
// are 422 naming each at its index; lists page like every other.
func TestRolesAPI(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)

		var perms struct {
			Items []struct{ Name, Description string } `json:"items"`
		}
		app.Do(http.MethodGet, "/api/permissions", nil, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusOK).JSON(t, &perms)
		var names []string
		for _, p := range perms.Items {
			if p.Description == "" {
				t.Errorf("%s has no description", p.Name)
			}
			names = append(names, p.Name)
		}
		for _, want := range usersvc.Permissions {
			if !slices.Contains(names, want.Name) {
				t.Errorf("permissions lack %s: %v", want.Name, names)
			}
		}
		if !slices.IsSorted(names) {
			t.Errorf("not sorted: %v", names)
		}
		var m me
		app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusOK).JSON(t, &m)
		if !m.IsSuperuser || !slices.Equal(m.Permissions, names) {
			t.Fatalf("the admin's permissions %v, want every one %v", m.Permissions, names)
		}

		var admin role
		app.Do(http.MethodGet, rolePath(usersvc.AdminRoleID), nil, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusOK).JSON(t, &admin)
		if admin.Name != "admin" || !admin.AllPermissions || !admin.Builtin || admin.Permissions == nil {
			t.Fatalf("admin = %+v", admin)
		}
		for _, res := range []*testkit.Response{
			app.Do(http.MethodPatch, rolePath(admin.ID), map[string]any{"name": "root"}, testkit.Bearer(app.SuperuserToken())),
			app.Do(http.MethodPut, rolePath(admin.ID)+"/permissions", map[string]any{"permissions": []string{}}, testkit.Bearer(app.SuperuserToken())),
			app.Do(http.MethodDelete, rolePath(admin.ID), nil, testkit.Bearer(app.SuperuserToken())),
		} {
			if p := expectProblem(t, res, http.StatusConflict); p.Code != "builtin_role" {
				t.Fatalf("built-in: %+v", p)
			}
		}

		long := strings.Repeat("管", 64)
		var r role
		app.Do(http.MethodPost, "/api/roles", map[string]any{"name": long, "permissions": []string{"users:read", "users:read"}}, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusCreated).JSON(t, &r)
		if r.Name != long || !slices.Equal(r.Permissions, []string{"users:read"}) || r.Builtin {
			t.Fatalf("created = %+v", r)
		}
		if p := expectProblem(t, app.Do(http.MethodPost, "/api/roles", map[string]any{"name": long + "管"}, testkit.Bearer(app.SuperuserToken())),
			http.StatusUnprocessableEntity); p.Errors[0].Location != "body.name" {
			t.Fatalf("65 characters: %+v", p)
		}
		if p := expectProblem(t, app.Do(http.MethodPost, "/api/roles", map[string]any{"name": long}, testkit.Bearer(app.SuperuserToken())),
			http.StatusConflict); p.Code != "role_name_taken" {
			t.Fatalf("taken: %+v", p)
		}
		res := app.Do(http.MethodPut, rolePath(r.ID)+"/permissions", map[string]any{"permissions": []string{"users:read", "users:raed", "x\u0000"}},
			testkit.Bearer(app.SuperuserToken()))
		p := expectProblem(t, res, http.StatusUnprocessableEntity)
		if len(p.Errors) != 2 || p.Errors[0].Location != "body.permissions[1]" || p.Errors[0].Code != "unknown_permission" ||
			!strings.Contains(p.Errors[0].Message, "users:raed") || p.Errors[1].Location != "body.permissions[2]" {
			t.Fatalf("unknown permissions: %+v", p)
		}
		app.Do(http.MethodPatch, rolePath(r.ID), map[string]any{"name": "ヘルプデスク"}, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusOK).JSON(t, &r)
		if r.Name != "ヘルプデスク" {
			t.Fatalf("renamed = %+v", r)
		}

		var page struct {
			Items []role `json:"items"`
			Next  string `json:"next"`
			Total int    `json:"total"`
		}
		app.Do(http.MethodGet, "/api/roles?limit=1&total=true", nil, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusOK).JSON(t, &page)
		if len(page.Items) != 1 || page.Items[0].ID != usersvc.AdminRoleID || page.Next == "" || page.Total != 2 {
			t.Fatalf("page 1 = %+v", page)
		}
		next := page.Next
		page.Next = ""
		app.Do(http.MethodGet, "/api/roles?limit=1&cursor="+next, nil, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusOK).JSON(t, &page)
		if len(page.Items) != 1 || page.Items[0].ID != r.ID || page.Next != "" {
			t.Fatalf("page 2 = %+v", page)
		}
		app.Do(http.MethodDelete, rolePath(r.ID), nil, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusNoContent)
		app.Do(http.MethodGet, rolePath(r.ID), nil, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusNotFound)
		app.Do(http.MethodPut, membership(m.ID, uuid.New()), nil, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusForbidden) // own roles, before anything else
	})
}

// TestLastAdminSurvivesRacingUnassignments: the two last admins take the
// admin role from each other at the same moment; exactly one succeeds,
// on both databases. The other is refused with 409 last_superuser when
// both passed the permission check before either committed, or with 403
// permission_required when the winner committed before the loser's
// request was checked.
func TestLastAdminSurvivesRacingUnassignments(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		var root me
		app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusOK).JSON(t, &root)
		for round := range 5 {
			other := newSuperuser(t, app, app.SuperuserToken(), round)
			counts, replies := concurrently(t, 2, func(i int) reply {
				if i == 0 {
					return send(app, http.MethodDelete, membership(other.ID, usersvc.AdminRoleID), app.SuperuserToken(), nil)
				}
				return send(app, http.MethodDelete, membership(root.ID, usersvc.AdminRoleID), other.Token, nil)
			})
			if counts[http.StatusOK] != 1 || counts[http.StatusConflict]+counts[http.StatusForbidden] != 1 {
				t.Fatalf("round %d: %v %v", round, counts, replies)
			}
			for _, r := range replies {
				if r.status == http.StatusConflict && !strings.Contains(string(r.body), `"last_superuser"`) ||
					r.status == http.StatusForbidden && !strings.Contains(string(r.body), `"permission_required"`) {
					t.Fatalf("%d: %s", r.status, r.body)
				}
			}
			if left := activeSuperusers(t, db); len(left) != 1 {
				t.Fatalf("round %d: %d admins left", round, len(left))
			}
			// Root again the only admin for the next round.
			if replies[1].status == http.StatusOK {
				tok := other.Token
				if res := send(app, http.MethodPut, membership(root.ID, usersvc.AdminRoleID), tok, nil); res.status != http.StatusOK {
					t.Fatalf("restore root: %d %s", res.status, res.body)
				}
				if res := send(app, http.MethodDelete, "/api/users/"+other.ID.String(), app.SuperuserToken(), nil); res.status != http.StatusNoContent {
					t.Fatalf("remove other: %d %s", res.status, res.body)
				}
			}
		}
	})
}
