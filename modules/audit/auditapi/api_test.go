package auditapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/acme/monolith/cmd/app/apptest"
	"github.com/acme/monolith/modules/auth/authapi"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

type event struct {
	ID    uuid.UUID `json:"id"`
	Actor struct {
		Kind string `json:"kind"`
		ID   string `json:"id"`
	} `json:"actor"`
	Action string `json:"action"`
	Target struct {
		Type string `json:"type"`
		ID   string `json:"id"`
	} `json:"target"`
	ClientIP  string            `json:"client_ip"`
	RequestID string            `json:"request_id"`
	Payload   map[string]string `json:"payload"`
}

type page struct {
	Items []event `json:"items"`
	Next  string  `json:"next"`
	Total *int    `json:"total"`
}

const path = "/api/audit-events"

// events lists every entry q matches (up to 100), newest first.
func events(t *testing.T, app *apptest.App, q url.Values) page {
	t.Helper()
	if q.Get("limit") == "" {
		q.Set("limit", "100")
	}
	var p page
	app.Do(http.MethodGet, path+"?"+q.Encode(), nil, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusOK).JSON(t, &p)
	return p
}

func one(t *testing.T, app *apptest.App, action, targetID string) event {
	t.Helper()
	p := events(t, app, url.Values{"action": {action}})
	for _, e := range p.Items {
		if targetID == "" || e.Target.ID == targetID {
			return e
		}
	}
	t.Fatalf("no %s entry about %q in %+v", action, targetID, p.Items)
	return event{}
}

func reqID(id string) testkit.Header { return testkit.Header{Key: "X-Request-ID", Value: id} }

// TestEveryActionIsRecorded runs the real flows over HTTP and finds each
// one's entry with its actor, target, client address and request id; then
// no entry carries any password or token the flows used.
func TestEveryActionIsRecorded(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		admin := app.SuperuserToken()
		var me struct {
			ID string `json:"id"`
		}
		app.Do(http.MethodGet, "/api/users/me", nil, testkit.Bearer(admin)).Expect(http.StatusOK).JSON(t, &me)
		secrets := []string{apptest.SuperuserPassword, admin}

		u := app.NewUser(false)
		secrets = append(secrets, u.Password, u.Token)
		created := one(t, app, "users.user.created", u.ID.String())
		if created.Actor.Kind != "user" || created.Actor.ID != me.ID || created.Target.Type != "user" || created.ClientIP == "" || created.RequestID == "" {
			t.Fatalf("users.user.created = %+v", created)
		}
		signIn := one(t, app, "auth.sign_in.succeeded", "")
		if signIn.Actor.ID != u.ID.String() || signIn.Target.Type != "session" || signIn.Payload["user_id"] != u.ID.String() {
			t.Fatalf("auth.sign_in.succeeded = %+v", signIn)
		}

		// A failed sign-in names the email tried, never the password.
		wrong := "wrong-" + u.Password
		secrets = append(secrets, wrong)
		app.Do(http.MethodPost, authapi.TokenPath, url.Values{"grant_type": {"password"}, "username": {u.Email}, "password": {wrong}},
			reqID("req-failed-1")).Expect(http.StatusBadRequest)
		failed := one(t, app, "auth.sign_in.failed", u.Email)
		if failed.Actor.Kind != "user" || failed.Actor.ID != "" || failed.Target.Type != "email" || failed.RequestID != "req-failed-1" || failed.ClientIP == "" {
			t.Fatalf("auth.sign_in.failed = %+v", failed)
		}

		// Password and email change by the account holder.
		next := "next-" + u.Password
		secrets = append(secrets, next)
		app.Do(http.MethodPost, "/api/users/me/password", map[string]string{"current_password": u.Password, "new_password": next},
			testkit.Bearer(u.Token), reqID("req-pw")).Expect(http.StatusNoContent)
		if e := one(t, app, "users.password.changed", u.ID.String()); e.Actor.ID != u.ID.String() || e.RequestID != "req-pw" {
			t.Fatalf("users.password.changed = %+v", e)
		}
		tok := app.Login(u.Email, next)
		secrets = append(secrets, tok)
		app.Do(http.MethodPatch, "/api/users/me", map[string]string{"email": "moved-" + u.Email, "current_password": next},
			testkit.Bearer(tok)).Expect(http.StatusOK)
		if e := one(t, app, "users.email.changed", u.ID.String()); e.Actor.ID != u.ID.String() {
			t.Fatalf("users.email.changed = %+v", e)
		}

		// Roles: create, rename, set permissions, assign, unassign, delete.
		var role struct {
			ID uuid.UUID `json:"id"`
		}
		name := "Prüfer-日本語-👩‍💻"
		app.Do(http.MethodPost, "/api/roles", map[string]any{"name": name, "permissions": []string{"users:read"}},
			testkit.Bearer(admin)).Expect(http.StatusCreated).JSON(t, &role)
		rid := role.ID.String()
		if e := one(t, app, "users.role.created", rid); e.Payload["name"] != name || e.Payload["permissions"] != "users:read" || e.Actor.ID != me.ID {
			t.Fatalf("users.role.created = %+v", e)
		}
		app.Do(http.MethodPatch, "/api/roles/"+rid, map[string]any{"name": name + "-2"}, testkit.Bearer(admin)).Expect(http.StatusOK)
		one(t, app, "users.role.renamed", rid)
		app.Do(http.MethodPut, "/api/roles/"+rid+"/permissions", map[string]any{"permissions": []string{"users:read", "roles:read"}},
			testkit.Bearer(admin)).Expect(http.StatusOK)
		if e := one(t, app, "users.role.permissions_set", rid); e.Payload["permissions"] != "roles:read,users:read" {
			t.Fatalf("users.role.permissions_set = %+v", e)
		}
		membership := "/api/users/" + u.ID.String() + "/roles/" + rid
		app.Do(http.MethodPut, membership, nil, testkit.Bearer(admin)).Expect(http.StatusOK)
		if e := one(t, app, "users.role.assigned", u.ID.String()); e.Payload["role_id"] != rid {
			t.Fatalf("users.role.assigned = %+v", e)
		}
		app.Do(http.MethodDelete, membership, nil, testkit.Bearer(admin)).Expect(http.StatusOK)
		one(t, app, "users.role.unassigned", u.ID.String())
		app.Do(http.MethodDelete, "/api/roles/"+rid, nil, testkit.Bearer(admin)).Expect(http.StatusNoContent)
		one(t, app, "users.role.deleted", rid)

		// Sessions: sign-out, sign-out everywhere.
		app.Do(http.MethodPost, "/api/auth/logout", nil, testkit.Bearer(tok)).Expect(http.StatusNoContent)
		if e := one(t, app, "auth.session.revoked", ""); e.Actor.ID != u.ID.String() || e.Payload["reason"] != "logout" {
			t.Fatalf("auth.session.revoked = %+v", e)
		}
		tok = app.Login("moved-"+u.Email, next)
		secrets = append(secrets, tok)
		app.Do(http.MethodPost, "/api/auth/logout-all", nil, testkit.Bearer(tok)).Expect(http.StatusNoContent)
		if e := one(t, app, "auth.sessions.revoked", u.ID.String()); e.Payload["reason"] != "logout_all" {
			t.Fatalf("auth.sessions.revoked = %+v", e)
		}

		// An admin's update (a new password: fields named, not values) and delete.
		third := "third-" + u.Password
		secrets = append(secrets, third)
		app.Do(http.MethodPatch, "/api/users/"+u.ID.String(), map[string]any{"password": third}, testkit.Bearer(admin)).Expect(http.StatusOK)
		if e := one(t, app, "users.user.updated", u.ID.String()); e.Payload["fields"] != "password" || e.Actor.ID != me.ID {
			t.Fatalf("users.user.updated = %+v", e)
		}
		app.Do(http.MethodDelete, "/api/users/"+u.ID.String(), nil, testkit.Bearer(admin)).Expect(http.StatusNoContent)
		one(t, app, "users.user.deleted", u.ID.String())

		// Nothing secret anywhere in the log.
		res := app.Do(http.MethodGet, path+"?limit=100", nil, testkit.Bearer(admin)).Expect(http.StatusOK)
		for _, s := range secrets {
			if strings.Contains(string(res.Body), s) {
				t.Fatalf("the audit log holds a secret: %q", s)
			}
		}
		if strings.Contains(strings.ToLower(string(res.Body)), "password\":") {
			t.Fatalf("the audit log has a password field: %s", res.Body)
		}
	})
}

// TestPasswordResetIsRecorded: the request (the mailed token never
// recorded) and its completion.
func TestPasswordResetIsRecorded(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		box := testkit.StartMailbox(t)
		app := apptest.Start(t, db, testkit.WithMailbox(box))
		u := app.NewUser(false)
		app.Do(http.MethodPost, "/api/auth/password-recovery", map[string]string{"email": u.Email}).Expect(http.StatusAccepted)
		if e := one(t, app, "auth.password_reset.requested", u.ID.String()); e.ClientIP == "" {
			t.Fatalf("auth.password_reset.requested = %+v", e)
		}
		token := mailedToken(t, box.WaitTo(u.Email, 1)[0])
		app.Do(http.MethodPost, "/api/auth/reset-password", map[string]string{"token": token, "new_password": "reset-" + u.Password}).
			Expect(http.StatusNoContent)
		if e := one(t, app, "users.password.reset", u.ID.String()); e.Actor.ID != u.ID.String() {
			t.Fatalf("users.password.reset = %+v", e)
		}
		res := app.Do(http.MethodGet, path+"?limit=100", nil, testkit.Bearer(app.SuperuserToken()))
		if strings.Contains(string(res.Body), token) {
			t.Fatal("the reset token is in the audit log")
		}
	})
}

// TestAFailedAuditWriteUndoesTheChange: with the audit table gone, a role
// change and a user deletion fail, and neither is applied.
func TestAFailedAuditWriteUndoesTheChange(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		admin := app.SuperuserToken()
		u := app.NewUser(false)
		if _, err := db.SQL.Exec("DROP TABLE audit_events"); err != nil {
			t.Fatal(err)
		}
		res := app.Do(http.MethodPost, "/api/roles", map[string]any{"name": "never", "permissions": []string{"users:read"}}, testkit.Bearer(admin))
		if res.Status < 500 {
			t.Fatalf("create role without an audit table: %d %s", res.Status, res.Body)
		}
		var roles struct {
			Items []struct {
				Name string `json:"name"`
			} `json:"items"`
		}
		app.Do(http.MethodGet, "/api/roles?limit=100", nil, testkit.Bearer(admin)).Expect(http.StatusOK).JSON(t, &roles)
		for _, r := range roles.Items {
			if r.Name == "never" {
				t.Fatal("the role was created though its audit entry failed")
			}
		}
		if res := app.Do(http.MethodDelete, "/api/users/"+u.ID.String(), nil, testkit.Bearer(admin)); res.Status < 500 {
			t.Fatalf("delete user without an audit table: %d %s", res.Status, res.Body)
		}
		app.Do(http.MethodGet, "/api/users/"+u.ID.String(), nil, testkit.Bearer(admin)).Expect(http.StatusOK)
	})
}

// TestFiltersAndPaging: each filter narrows, pages run newest first and
// a cursor belongs to its filters; bad filters are 422 with their codes.
func TestFiltersAndPaging(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		admin := app.SuperuserToken()
		var ids []string
		for range 3 {
			ids = append(ids, app.NewUser(false).ID.String())
		}

		all := events(t, app, url.Values{"action": {"users.user.created"}})
		// The bootstrapped admin's creation comes last: the oldest.
		if len(all.Items) != 4 || all.Items[0].Target.ID != ids[2] || all.Items[2].Target.ID != ids[0] || all.Items[3].Actor.Kind != "system" {
			t.Fatalf("not the creations newest first: %+v", all.Items)
		}
		if p := events(t, app, url.Values{"target_type": {"user"}, "target_id": {ids[1]}}); len(p.Items) != 1 || p.Items[0].Action != "users.user.created" {
			t.Fatalf("by target: %+v", p.Items)
		}
		if p := events(t, app, url.Values{"actor": {ids[0]}, "action": {"auth.sign_in.succeeded"}}); len(p.Items) != 1 {
			t.Fatalf("by actor: %+v", p.Items)
		}
		if p := events(t, app, url.Values{"actor_kind": {"system"}, "action": {"users.user.created"}}); len(p.Items) != 1 {
			t.Fatalf("the bootstrap admin is the system's creation: %+v", p.Items)
		}
		if p := events(t, app, url.Values{"from": {"2999-01-01T00:00:00Z"}}); len(p.Items) != 0 {
			t.Fatalf("from the future: %+v", p.Items)
		}
		if p := events(t, app, url.Values{"to": {"2000-01-01T00:00:00Z"}}); len(p.Items) != 0 {
			t.Fatalf("to the past: %+v", p.Items)
		}

		// Pages of two, newest first, the Link keeping the filter.
		q := url.Values{"action": {"users.user.created"}, "limit": {"2"}, "total": {"true"}}
		res := app.Do(http.MethodGet, path+"?"+q.Encode(), nil, testkit.Bearer(admin)).Expect(http.StatusOK)
		var first page
		res.JSON(t, &first)
		if len(first.Items) != 2 || first.Next == "" || first.Total == nil || *first.Total != 4 {
			t.Fatalf("first page: %+v", first)
		}
		if link := res.Header.Get("Link"); !strings.Contains(link, "action=users.user.created") {
			t.Fatalf("Link = %q", link)
		}
		q.Set("cursor", first.Next)
		var second page
		app.Do(http.MethodGet, path+"?"+q.Encode(), nil, testkit.Bearer(admin)).Expect(http.StatusOK).JSON(t, &second)
		if len(second.Items) != 2 || second.Next != "" || second.Items[0].Target.ID != ids[0] {
			t.Fatalf("second page: %+v", second)
		}
		// The same cursor under other filters is refused.
		q.Set("action", "auth.sign_in.succeeded")
		if p := app.Do(http.MethodGet, path+"?"+q.Encode(), nil, testkit.Bearer(admin)).Expect(http.StatusUnprocessableEntity).Problem(t); !strings.Contains(fmt.Sprint(p), "invalid_cursor") {
			t.Fatalf("foreign cursor: %+v", p)
		}

		for query, code := range map[string]string{
			"from=yesterday":  "invalid_time",
			"to=2026-13-01":   "invalid_time",
			"actor_kind=bot":  "invalid_actor_kind",
			"action=DROP%20X": "invalid_action",
			"target_id=x":     "target_type_required",
			"from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z": "invalid_time_range",
		} {
			p := app.Do(http.MethodGet, path+"?"+query, nil, testkit.Bearer(admin)).Expect(http.StatusUnprocessableEntity).Problem(t)
			if !strings.Contains(fmt.Sprint(p), code) {
				t.Errorf("%s: %+v, want %s", query, p, code)
			}
		}
	})
}

// TestReadingTheLogNeedsAuditRead: 403 permission_required without it,
// 200 with a role granting it.
func TestReadingTheLogNeedsAuditRead(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		u := app.NewUser(false)
		if p := app.Do(http.MethodGet, path, nil, testkit.Bearer(u.Token)).Expect(http.StatusForbidden).Problem(t); p.Code != "permission_required" {
			t.Fatalf("403 = %+v", p)
		}
		app.Do(http.MethodGet, path, nil).Expect(http.StatusUnauthorized)
		r := app.NewUserWith("audit:read")
		app.Do(http.MethodGet, path, nil, testkit.Bearer(r.Token)).Expect(http.StatusOK)
	})
}

// TestABurstOfFailedSignInsIsAllRecorded: every failed attempt of a
// concurrent burst has its entry.
func TestABurstOfFailedSignInsIsAllRecorded(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		const n = 24
		var wg sync.WaitGroup
		var mu sync.Mutex
		failed, busy := 0, 0
		for i := range n {
			wg.Go(func() {
				res := app.Do(http.MethodPost, authapi.TokenPath, url.Values{
					"grant_type": {"password"}, "username": {fmt.Sprintf("nobody-%d-ß@example.test", i)}, "password": {"not-the-password"},
				})
				mu.Lock()
				defer mu.Unlock()
				switch res.Status {
				case http.StatusBadRequest:
					failed++
				case http.StatusServiceUnavailable:
					// The hashing queue's backpressure on a loaded machine:
					// no password was checked, so nothing is recorded.
					busy++
				default:
					t.Errorf("attempt %d: %d %s", i, res.Status, res.Body)
				}
			})
		}
		wg.Wait()
		if failed < n/2 || failed+busy != n {
			t.Fatalf("%d of %d attempts failed as expected (%d busy)", failed, n, busy)
		}
		p := events(t, app, url.Values{"action": {"auth.sign_in.failed"}, "total": {"true"}})
		if p.Total == nil || *p.Total != failed {
			t.Fatalf("%v entries of %d failures", p.Total, failed)
		}
		raw, _ := json.Marshal(p)
		if strings.Contains(string(raw), "not-the-password") {
			t.Fatal("a tried password is in the log")
		}
	})
}

// mailedToken reads the token from a password-reset email (on its own line).
func mailedToken(t *testing.T, m testkit.Mail) string {
	t.Helper()
	for line := range strings.Lines(m.Body) {
		line = strings.TrimSpace(line)
		if len(line) == 43 && !strings.ContainsAny(line, " :/") {
			return line
		}
	}
	t.Fatalf("no reset token in:\n%s", m.Body)
	return ""
}

// TestRefreshReuseIsRecorded: presenting a refresh token whose child has
// been rotated already ends the session, and the system records it.
func TestRefreshReuseIsRecorded(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		u := app.NewUser(false)
		var tok struct {
			RefreshToken string `json:"refresh_token"`
		}
		app.Do(http.MethodPost, authapi.TokenPath, url.Values{"grant_type": {"password"}, "username": {u.Email}, "password": {u.Password}}).
			Expect(http.StatusOK).JSON(t, &tok)
		first := tok.RefreshToken
		refresh := func(rt string) *testkit.Response {
			return app.Do(http.MethodPost, authapi.TokenPath, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
		}
		refresh(first).Expect(http.StatusOK).JSON(t, &tok)
		refresh(tok.RefreshToken).Expect(http.StatusOK)
		refresh(first).Expect(http.StatusBadRequest)
		e := one(t, app, "auth.refresh.reuse_detected", "")
		if e.Actor.Kind != "system" || e.Target.Type != "session" || e.Payload["user_id"] != u.ID.String() || e.ClientIP == "" {
			t.Fatalf("auth.refresh.reuse_detected = %+v", e)
		}
		res := app.Do(http.MethodGet, path+"?limit=100", nil, testkit.Bearer(app.SuperuserToken()))
		if strings.Contains(string(res.Body), first) {
			t.Fatal("a refresh token is in the audit log")
		}
	})
}

// TestRegistrationIsRecordedAsTheNewAccount: open signup is the new
// account's own act.
func TestRegistrationIsRecordedAsTheNewAccount(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db, testkit.WithEnv("SIGNUP_ENABLED", "true"))
		var u struct {
			ID string `json:"id"`
		}
		app.Do(http.MethodPost, "/api/auth/register", map[string]string{"email": "zoë-日本@example.test", "password": "a long enough passphrase"}).
			Expect(http.StatusCreated).JSON(t, &u)
		if e := one(t, app, "users.user.registered", u.ID); e.Actor.Kind != "user" || e.Actor.ID != u.ID || e.Payload["admin"] != "false" {
			t.Fatalf("users.user.registered = %+v", e)
		}
	})
}

// TestAPIKeysAreRecorded: a key's creation and revocation, with its
// owner and hint, never its secret.
func TestAPIKeysAreRecorded(t *testing.T) {
	testkit.ForEachDB(t, func(t *testing.T, db *database.DB) {
		app := apptest.Start(t, db)
		u := app.NewUser(false)
		var key struct {
			ID     string `json:"id"`
			Secret string `json:"secret"`
		}
		app.Do(http.MethodPost, "/api/auth/api-keys", map[string]any{"name": "déploiement 日本", "permissions": []string{}},
			testkit.Bearer(u.Token)).Expect(http.StatusCreated).JSON(t, &key)
		created := one(t, app, "auth.key.created", key.ID)
		if created.Actor.ID != u.ID.String() || created.Target.Type != "api_key" || created.Payload["owner_id"] != u.ID.String() ||
			created.Payload["name"] != "déploiement 日本" || created.Payload["hint"] == "" {
			t.Fatalf("auth.key.created = %+v", created)
		}
		app.Do(http.MethodDelete, "/api/auth/api-keys/"+key.ID, nil, testkit.Bearer(u.Token)).Expect(http.StatusNoContent)
		if e := one(t, app, "auth.key.revoked", key.ID); e.Actor.ID != u.ID.String() {
			t.Fatalf("auth.key.revoked = %+v", e)
		}
		res := app.Do(http.MethodGet, path+"?limit=100", nil, testkit.Bearer(app.SuperuserToken())).Expect(http.StatusOK)
		if strings.Contains(string(res.Body), key.Secret) || strings.Contains(string(res.Body), key.Secret[len(key.Secret)-10:]) {
			t.Fatal("the audit log holds the key's secret")
		}
	})
}
