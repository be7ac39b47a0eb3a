package authattack

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// TestRoleEscalationAttacks: an account that administers roles cannot
// raise itself, on both databases. Each case first shows the same request
// working on another account or within what the caller holds, so the
// refusal is caused by the escalation.
func TestRoleEscalationAttacks(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		// A role administrator: may write and give roles, read users.
		desk := app.NewUserWith("roles:read", "roles:write", "roles:assign", "users:read")
		other := app.NewUser(false)
		reader := grant(t, app, other.ID) // a role with no permission, for the control
		cases := []attack{
			{"assign-itself-a-role", "ASVS 5.0 V8.2.1, V8.3.1 (no self-assignment; enforced at the service)", func(t *testing.T) {
				app.Do(http.MethodPut, "/api/users/"+other.ID.String()+"/roles/"+reader, nil, testkit.Bearer(desk.Token)).Expect(http.StatusOK)
				res := app.Do(http.MethodPut, "/api/users/"+desk.ID.String()+"/roles/"+reader, nil, testkit.Bearer(desk.Token)).Expect(http.StatusForbidden)
				expectCode(t, res, "cannot_change_own_roles")
			}},
			{"create-a-role-beyond-its-permissions", "ASVS 5.0 V8.2.1 (only permissions the caller holds)", func(t *testing.T) {
				app.Do(http.MethodPost, "/api/roles", map[string]any{"name": "within", "permissions": []string{"users:read"}},
					testkit.Bearer(desk.Token)).Expect(http.StatusCreated)
				res := app.Do(http.MethodPost, "/api/roles", map[string]any{"name": "beyond", "permissions": []string{"users:write"}},
					testkit.Bearer(desk.Token)).Expect(http.StatusForbidden)
				expectCode(t, res, "permission_not_held")
			}},
			{"give-the-admin-role", "ASVS 5.0 V8.2.1 (the admin role is an admin's to give)", func(t *testing.T) {
				var roles struct {
					Items []struct {
						ID   string `json:"id"`
						Name string `json:"name"`
					} `json:"items"`
				}
				app.Do(http.MethodGet, "/api/roles?limit=100", nil, testkit.Bearer(desk.Token)).Expect(http.StatusOK).JSON(t, &roles)
				admin := ""
				for _, r := range roles.Items {
					if r.Name == "admin" {
						admin = r.ID
					}
				}
				res := app.Do(http.MethodPut, "/api/users/"+other.ID.String()+"/roles/"+admin, nil, testkit.Bearer(desk.Token)).Expect(http.StatusForbidden)
				expectCode(t, res, "permission_not_held")
			}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Logf("%s", c.cite)
				c.run(t)
			})
		}
	})
}

// TestRoleEditRacingWithRequests: a holder reads users in a burst while
// an admin takes users:read from its role. No read that starts after the
// change has answered is served, on both databases (ASVS 5.0 V8.3.1:
// authorization is decided on every request from the current state).
func TestRoleEditRacingWithRequests(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		holder := app.NewUser(false)
		role := grant(t, app, holder.ID, "users:read")
		app.Do(http.MethodGet, "/api/users", nil, testkit.Bearer(holder.Token)).Expect(http.StatusOK)

		var changed atomic.Bool
		var late atomic.Int64 // served although started after the change
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 6 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					after := changed.Load()
					res := app.Do(http.MethodGet, "/api/users", nil, testkit.Bearer(holder.Token))
					switch {
					case res.Status == http.StatusOK && after:
						late.Add(1)
					case res.Status != http.StatusOK && res.Status != http.StatusForbidden:
						t.Errorf("read: %d %s", res.Status, res.Body)
					}
				}
			})
		}
		app.Do(http.MethodPut, "/api/roles/"+role+"/permissions", map[string]any{"permissions": []string{}},
			testkit.Bearer(app.SuperuserToken())).Expect(http.StatusOK)
		changed.Store(true)
		// Let every reader start several requests after the change.
		for range 20 {
			app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(holder.Token)).Expect(http.StatusOK)
		}
		close(stop)
		wg.Wait()
		if n := late.Load(); n != 0 {
			t.Fatalf("%d reads started after the permission was taken away were served", n)
		}
		app.Do(http.MethodGet, "/api/users", nil, testkit.Bearer(holder.Token)).Expect(http.StatusForbidden)
	})
}

// expectCode asserts the problem's stable code.
func expectCode(t *testing.T, res *testkit.Response, code string) {
	t.Helper()
	if !strings.Contains(string(res.Body), `"code":"`+code+`"`) {
		t.Fatalf("want code %s: %d %s", code, res.Status, res.Body)
	}
}
