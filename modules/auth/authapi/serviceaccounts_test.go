package authapi_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// TestServiceAccounts: an admin creates a service account, gives it a role
// and an API key within both their permissions; the key acts with them.
// The account cannot sign in with a password or get a reset email (the
// answers are an unknown email's), and a person's id is no service
// account's for key management.
func TestServiceAccounts(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		box := testkit.StartMailbox(t)
		app := apptest.Start(t, db, testkit.WithMailbox(box))
		admin := app.SuperuserToken()
		var sa struct {
			ID   uuid.UUID `json:"id"`
			Kind string    `json:"kind"`
		}
		app.Do(http.MethodPost, "/api/service-accounts", map[string]any{"email": "CI@service.invalid", "full_name": "Intégration continue"},
			testkit.Bearer(admin)).Expect(http.StatusCreated).JSON(t, &sa)
		if sa.Kind != "service" {
			t.Fatalf("kind = %q", sa.Kind)
		}
		list := app.Do(http.MethodGet, "/api/users?limit=100", nil, testkit.Bearer(admin)).Expect(http.StatusOK)
		if !strings.Contains(string(list.Body), `"kind":"service"`) || !strings.Contains(string(list.Body), `"kind":"user"`) {
			t.Fatalf("the user list does not show kinds: %s", list.Body)
		}

		login := func(email, pw string) string {
			return string(app.Do(http.MethodPost, "/api/auth/login", url.Values{"grant_type": {"password"}, "username": {email}, "password": {pw}}).
				Expect(http.StatusBadRequest).Body)
		}
		unknown := login("nobody@service.invalid", "whatever it is")
		for _, pw := range []string{"whatever it is", "!service-account", ""} {
			if got := login("ci@service.invalid", pw); got != unknown {
				t.Fatalf("service account sign-in with %q: %s, want %s", pw, got, unknown)
			}
		}
		app.Do(http.MethodPost, "/api/auth/password-recovery", map[string]any{"email": "ci@service.invalid"}).Expect(http.StatusAccepted)
		if n := len(box.Messages()); n != 0 {
			t.Fatalf("%d reset emails for a service account", n)
		}

		role(t, app, sa.ID, "users:read", "roles:read")
		keys := "/api/service-accounts/" + sa.ID.String() + "/api-keys"
		p := app.Do(http.MethodPost, keys, map[string]any{"name": "ci", "permissions": []string{"users:write"}}, testkit.Bearer(admin)).
			Expect(http.StatusForbidden).Problem(t)
		if p.Code != "api_key_permission_not_held" {
			t.Fatalf("code %q", p.Code)
		}
		var k apiKey
		app.Do(http.MethodPost, keys, map[string]any{"name": "ci", "permissions": []string{"users:read"}}, testkit.Bearer(admin)).
			Expect(http.StatusCreated).JSON(t, &k)
		if !strings.HasPrefix(k.Secret, "mks_") {
			t.Fatalf("service key %q, want mks_", k.Secret)
		}
		app.Do(http.MethodGet, "/api/users", nil, testkit.Bearer(k.Secret)).Expect(http.StatusOK)
		app.Do(http.MethodGet, "/api/roles", nil, testkit.Bearer(k.Secret)).Expect(http.StatusForbidden)

		// A holder of service_accounts:write gives a key no more than it holds.
		op := app.NewUserWith("service_accounts:write")
		app.Do(http.MethodPost, keys, map[string]any{"name": "x", "permissions": []string{"users:read"}}, testkit.Bearer(op.Token)).
			Expect(http.StatusForbidden)
		app.Do(http.MethodPost, keys, map[string]any{"name": "x", "permissions": []string{}}, testkit.Bearer(op.Token)).
			Expect(http.StatusCreated)
		// Not with a key, and not for a person.
		opKey := newKey(t, app, op.Token, "service_accounts:write")
		if p := app.Do(http.MethodPost, keys, map[string]any{"name": "x", "permissions": []string{}}, testkit.Bearer(opKey.Secret)).
			Expect(http.StatusForbidden).Problem(t); p.Code != "session_required" {
			t.Fatalf("code %q", p.Code)
		}
		if p := app.Do(http.MethodPost, "/api/service-accounts/"+op.ID.String()+"/api-keys", map[string]any{"name": "x", "permissions": []string{}},
			testkit.Bearer(admin)).Expect(http.StatusNotFound).Problem(t); p.Code != "service_account_not_found" {
			t.Fatalf("code %q", p.Code)
		}
		app.Do(http.MethodGet, "/api/service-accounts/"+op.ID.String()+"/api-keys", nil, testkit.Bearer(admin)).Expect(http.StatusNotFound)
		app.Do(http.MethodPost, "/api/service-accounts", map[string]any{"email": "x@service.invalid"}, testkit.Bearer(op.Token)).Expect(http.StatusCreated)
		app.Do(http.MethodPost, "/api/service-accounts", map[string]any{"email": "y@service.invalid"}, testkit.Bearer(app.NewUser(false).Token)).Expect(http.StatusForbidden)

		var listed struct{ Items []apiKey }
		app.Do(http.MethodGet, keys, nil, testkit.Bearer(admin)).Expect(http.StatusOK).JSON(t, &listed)
		if len(listed.Items) != 2 || strings.Contains(string(app.Do(http.MethodGet, keys, nil, testkit.Bearer(admin)).Body), k.Secret) {
			t.Fatalf("listed %+v", listed.Items)
		}
		app.Do(http.MethodDelete, keys+"/"+k.ID.String(), nil, testkit.Bearer(admin)).Expect(http.StatusNoContent)
		app.Do(http.MethodGet, "/api/users", nil, testkit.Bearer(k.Secret)).Expect(http.StatusUnauthorized)
	})
}

var _ = apptest.SuperuserEmail
