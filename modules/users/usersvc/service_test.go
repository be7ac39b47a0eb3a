package usersvc_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/acme/monolith/modules/users/usersvc"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/authz"
	"github.com/acme/monolith/platform/events"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/paging"
)

// The business rules of the users service, on fakes: the store's own
// behaviour (uniqueness, the last-superuser guard in its transaction) is
// tested on real databases through the API; here only what the service
// decides is.

type memStore struct {
	users  map[uuid.UUID]usersvc.User
	roles  map[uuid.UUID]usersvc.Role
	reads  int
	writes int
}

func newMemStore() *memStore {
	return &memStore{users: map[uuid.UUID]usersvc.User{}, roles: map[uuid.UUID]usersvc.Role{
		usersvc.AdminRoleID: {ID: usersvc.AdminRoleID, Name: usersvc.AdminRole, All: true, Builtin: true},
	}}
}

// fill computes u's permissions from its roles, as the store does.
func (m *memStore) fill(u usersvc.User) usersvc.User {
	var sets []authz.Set
	for _, r := range u.Roles {
		sets = append(sets, m.roles[r.ID].Grants())
	}
	u.Permissions = authz.Union(sets...)
	return u
}

func (m *memStore) Create(_ context.Context, a usersvc.NewAccount) (usersvc.User, error) {
	for _, o := range m.users {
		if o.Email == a.Email {
			return usersvc.User{}, usersvc.ErrEmailTaken
		}
	}
	m.writes++
	u := usersvc.User{ID: a.ID, Email: a.Email, FullName: a.FullName, PasswordHash: a.PasswordHash, IsActive: a.IsActive,
		EmailVerified: a.VerifiedAt != nil, EmailVerifiedAt: a.VerifiedAt}
	if a.Admin {
		u.Roles = []authn.RoleRef{{ID: usersvc.AdminRoleID, Name: usersvc.AdminRole}}
	}
	m.users[u.ID] = u
	return m.fill(u), nil
}

func (m *memStore) ByID(_ context.Context, id uuid.UUID) (usersvc.User, error) {
	m.reads++
	u, ok := m.users[id]
	if !ok {
		return usersvc.User{}, usersvc.ErrNotFound
	}
	return m.fill(u), nil
}

func (m *memStore) Account(ctx context.Context, id uuid.UUID) (usersvc.User, error) {
	return m.ByID(ctx, id)
}

func (m *memStore) ByEmail(_ context.Context, email string) (usersvc.User, error) {
	m.reads++
	for _, u := range m.users {
		if u.Email == email {
			return m.fill(u), nil
		}
	}
	return usersvc.User{}, usersvc.ErrNotFound
}

func (m *memStore) List(context.Context, paging.Request) (paging.Result[usersvc.User], error) {
	var out paging.Result[usersvc.User]
	for _, u := range m.users {
		out.Items = append(out.Items, m.fill(u))
	}
	return out, nil
}

func (m *memStore) Update(_ context.Context, id uuid.UUID, c usersvc.Change) (usersvc.User, error) {
	u, ok := m.users[id]
	if !ok || (c.IfPasswordHash != nil && *c.IfPasswordHash != u.PasswordHash) {
		return usersvc.User{}, usersvc.ErrNotFound
	}
	m.writes++
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&u.Email, c.Email)
	set(&u.FullName, c.FullName)
	set(&u.PasswordHash, c.PasswordHash)
	if c.IsActive != nil {
		u.IsActive = *c.IsActive
	}
	if c.VerifiedAt != nil {
		u.EmailVerified, u.EmailVerifiedAt = true, c.VerifiedAt
	}
	m.users[id] = u
	if c.Admin != nil && *c.Admin {
		return m.AssignRole(context.Background(), id, usersvc.AdminRoleID)
	} else if c.Admin != nil {
		return m.UnassignRole(context.Background(), id, usersvc.AdminRoleID)
	}
	return m.fill(u), nil
}

func (m *memStore) Delete(_ context.Context, id uuid.UUID) error {
	if _, ok := m.users[id]; !ok {
		return usersvc.ErrNotFound
	}
	m.writes++
	delete(m.users, id)
	return nil
}

func (m *memStore) ListRoles(context.Context, paging.Request) (paging.Result[usersvc.Role], error) {
	var out paging.Result[usersvc.Role]
	for _, r := range m.roles {
		out.Items = append(out.Items, r)
	}
	return out, nil
}

func (m *memStore) RoleByID(_ context.Context, id uuid.UUID) (usersvc.Role, error) {
	r, ok := m.roles[id]
	if !ok {
		return usersvc.Role{}, usersvc.ErrRoleNotFound
	}
	return r, nil
}

func (m *memStore) RoleByName(_ context.Context, name string) (usersvc.Role, error) {
	for _, r := range m.roles {
		if r.Name == name {
			return r, nil
		}
	}
	return usersvc.Role{}, usersvc.ErrRoleNotFound
}

func (m *memStore) CreateRole(_ context.Context, r usersvc.Role) (usersvc.Role, error) {
	if _, err := m.RoleByName(context.Background(), r.Name); err == nil {
		return usersvc.Role{}, usersvc.ErrRoleNameTaken
	}
	m.writes++
	m.roles[r.ID] = r
	return r, nil
}

func (m *memStore) ChangeRolePermissions(_ context.Context, id uuid.UUID, add, remove []string) (usersvc.Role, error) {
	r, ok := m.roles[id]
	if !ok || r.Builtin {
		return usersvc.Role{}, usersvc.ErrRoleNotFound
	}
	m.writes++
	perms := slices.DeleteFunc(slices.Clone(r.Permissions), func(p string) bool { return slices.Contains(remove, p) })
	r.Permissions = slices.Compact(slices.Sorted(slices.Values(append(perms, add...))))
	m.roles[id] = r
	return r, nil
}

func (m *memStore) UpdateRole(_ context.Context, id uuid.UUID, c usersvc.RoleChange) (usersvc.Role, error) {
	r, ok := m.roles[id]
	if !ok || r.Builtin {
		return usersvc.Role{}, usersvc.ErrRoleNotFound
	}
	m.writes++
	if c.Name != nil {
		r.Name = *c.Name
	}
	if c.Permissions != nil {
		r.Permissions = *c.Permissions
	}
	m.roles[id] = r
	return r, nil
}

func (m *memStore) DeleteRole(_ context.Context, id uuid.UUID) error {
	if r, ok := m.roles[id]; !ok || r.Builtin {
		return usersvc.ErrRoleNotFound
	}
	m.writes++
	delete(m.roles, id)
	return nil
}

func (m *memStore) AssignRole(_ context.Context, userID, roleID uuid.UUID) (usersvc.User, error) {
	u, ok := m.users[userID]
	if !ok {
		return usersvc.User{}, usersvc.ErrNotFound
	}
	r, ok := m.roles[roleID]
	if !ok {
		return usersvc.User{}, usersvc.ErrRoleNotFound
	}
	m.writes++
	if !slices.ContainsFunc(u.Roles, func(x authn.RoleRef) bool { return x.ID == roleID }) {
		u.Roles = append(slices.Clone(u.Roles), authn.RoleRef{ID: r.ID, Name: r.Name})
	}
	m.users[userID] = u
	return m.fill(u), nil
}

func (m *memStore) UnassignRole(_ context.Context, userID, roleID uuid.UUID) (usersvc.User, error) {
	u, ok := m.users[userID]
	if !ok {
		return usersvc.User{}, usersvc.ErrNotFound
	}
	m.writes++
	u.Roles = slices.DeleteFunc(slices.Clone(u.Roles), func(x authn.RoleRef) bool { return x.ID == roleID })
	m.users[userID] = u
	return m.fill(u), nil
}

// plainHasher is a hasher without the cost: "h:" + the password.
type plainHasher struct{ hashed int }

func (h *plainHasher) Hash(_ context.Context, pw string) (string, error) {
	h.hashed++
	return "h:" + pw, nil
}
func (h *plainHasher) Verify(_ context.Context, encoded, pw string) (bool, error) {
	return encoded == "h:"+pw, nil
}
func (h *plainHasher) VerifyDummy(context.Context, string) error { return nil }
func (h *plainHasher) NeedsRehash(string) bool                   { return false }

// revocations records what the service asked the auth module to end.
// revocations records what the service ends, and whether each outside
// the change's transaction (it must commit with the change).
type revocations struct {
	sessions, resets []uuid.UUID
	outsideTx        int
}

func (r *revocations) RevokeUserSessions(ctx context.Context, id uuid.UUID) error {
	r.sessions = append(r.sessions, id)
	if ctx.Value(inTxKey{}) == nil {
		r.outsideTx++
	}
	return nil
}
func (r *revocations) RevokePasswordResets(ctx context.Context, id uuid.UUID) error {
	r.resets = append(r.resets, id)
	if ctx.Value(inTxKey{}) == nil {
		r.outsideTx++
	}
	return nil
}

// published records the events the service publishes, and whether each
// was published inside the change's transaction.
type published struct {
	sent []events.Event
	inTx []bool
}

func (p *published) Publish(ctx context.Context, e events.Event) error {
	p.sent = append(p.sent, e)
	p.inTx = append(p.inTx, ctx.Value(inTxKey{}) != nil)
	return nil
}

type inTxKey struct{}

// markTx is a Transactor that marks the context it runs fn with.
type markTx struct{}

func (markTx) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return fn(context.WithValue(ctx, inTxKey{}, true))
}

type fixture struct {
	svc     *usersvc.Service
	store   *memStore
	hasher  *plainHasher
	revoked *revocations
	told    *published
	admin   usersvc.User
	user    usersvc.User
}

const userPassword = "correct horse battery"

func newFixture(t *testing.T, signup bool) *fixture {
	t.Helper()
	f := &fixture{store: newMemStore(), hasher: &plainHasher{}, revoked: &revocations{}, told: &published{}}
	perms, err := authz.New(append(slices.Clone(usersvc.Permissions), authz.Permission{Name: "notes:write", Description: "Write notes"})...)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = usersvc.New(f.store, f.hasher, zap.NewNop(), usersvc.Options{
		SignupEnabled: signup, Revoker: f.revoked, Events: f.told, Permissions: perms, Tx: markTx{},
	})
	ctx := context.Background()
	if f.admin, err = f.svc.CreateSuperuser(ctx, "admin@example.com", "admin passphrase long", ""); err != nil {
		t.Fatal(err)
	}
	if f.user, err = f.svc.Create(ctx, usersvc.System, usersvc.NewUser{Email: "ada@example.com", Password: userPassword, IsActive: true}); err != nil {
		t.Fatal(err)
	}
	f.hasher.hashed, f.store.reads, f.store.writes = 0, 0, 0
	f.told.sent, f.told.inTx = nil, nil
	return f
}

func ptr[T any](v T) *T { return &v }

// asAdmin is the fixture's admin as the caller of a change.
func (f *fixture) asAdmin() usersvc.Caller {
	return usersvc.Caller{ID: f.admin.ID, Permissions: f.admin.Permissions}
}

func fields(err error) []string {
	var m fault.Multi
	if errors.As(err, &m) {
		var out []string
		for _, e := range m {
			out = append(out, e.Field+":"+e.Code)
		}
		slices.Sort(out)
		return out
	}
	if fe, ok := fault.As(err); ok {
		return []string{fe.Field + ":" + fe.Code}
	}
	return nil
}

// TestCredentialChangesEndWhatTheyShould: each change ends the sessions,
// the reset tokens and publishes the account events its rule says, in
// the change's transaction, and nothing more.
func TestCredentialChangesEndWhatTheyShould(t *testing.T) {
	type want struct {
		sessions, resets bool
		events           []events.Event
	}
	cases := map[string]struct {
		do   func(f *fixture) error
		want want
	}{
		"rename": {
			do: func(f *fixture) error {
				_, err := f.svc.UpdateProfile(context.Background(), f.user.ID, usersvc.ProfilePatch{FullName: ptr("Ada Lovelace")})
				return err
			},
		},
		"own email, with the password": {
			do: func(f *fixture) error {
				_, err := f.svc.UpdateProfile(context.Background(), f.user.ID, usersvc.ProfilePatch{Email: ptr("ADA@example.org"), CurrentPassword: ptr(userPassword)})
				return err
			},
			want: want{resets: true, events: []events.Event{authn.AccountEmailChanged{OldEmail: "ada@example.com", Email: "ada@example.org", By: authn.BySelf}}},
		},
		"own password": {
			do: func(f *fixture) error {
				return f.svc.ChangePassword(context.Background(), f.user.ID, userPassword, "a new long passphrase")
			},
			want: want{sessions: true, resets: true, events: []events.Event{authn.AccountPasswordChanged{Email: "ada@example.com", By: authn.BySelf}}},
		},
		"reset": {
			do: func(f *fixture) error {
				return f.svc.ResetPassword(context.Background(), f.user.ID, "a new long passphrase")
			},
			want: want{sessions: true, resets: true, events: []events.Event{authn.AccountPasswordChanged{Email: "ada@example.com", By: authn.ByReset}}},
		},
		"admin sets the password": {
			do: func(f *fixture) error {
				_, err := f.svc.Update(context.Background(), f.asAdmin(), f.user.ID, usersvc.Patch{Password: ptr("a new long passphrase")})
				return err
			},
			want: want{sessions: true, resets: true, events: []events.Event{authn.AccountPasswordChanged{Email: "ada@example.com", By: authn.ByAdmin}}},
		},
		"admin deactivates": {
			do: func(f *fixture) error {
				_, err := f.svc.Update(context.Background(), f.asAdmin(), f.user.ID, usersvc.Patch{IsActive: ptr(false)})
				return err
			},
			want: want{sessions: true, resets: true, events: []events.Event{authn.AccountDeactivated{Email: "ada@example.com", By: authn.ByAdmin}}},
		},
		"admin promotes": {
			do: func(f *fixture) error {
				_, err := f.svc.Update(context.Background(), f.asAdmin(), f.user.ID, usersvc.Patch{Admin: ptr(true)})
				return err
			},
		},
		"admin deletes": {
			do:   func(f *fixture) error { return f.svc.Delete(context.Background(), f.asAdmin(), f.user.ID) },
			want: want{sessions: true, resets: true, events: []events.Event{authn.AccountDeleted{Email: "ada@example.com", By: authn.ByAdmin}}},
		},
		"same email in another case": {
			do: func(f *fixture) error {
				_, err := f.svc.UpdateProfile(context.Background(), f.user.ID, usersvc.ProfilePatch{Email: ptr("Ada@Example.com"), CurrentPassword: ptr(userPassword)})
				return err
			},
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, true)
			if err := c.do(f); err != nil {
				t.Fatal(err)
			}
			if got := slices.Contains(f.revoked.sessions, f.user.ID); got != c.want.sessions || len(f.revoked.sessions) > 1 {
				t.Errorf("sessions ended: %v, want %v", f.revoked.sessions, c.want.sessions)
			}
			if got := slices.Contains(f.revoked.resets, f.user.ID); got != c.want.resets || len(f.revoked.resets) > 1 {
				t.Errorf("reset tokens ended: %v, want %v", f.revoked.resets, c.want.resets)
			}
			if f.revoked.outsideTx != 0 {
				t.Errorf("%d revocations ran outside the change's transaction", f.revoked.outsideTx)
			}
			// The ids and times are the change's: compared apart.
			var got []events.Event
			for i, e := range f.told.sent {
				if !f.told.inTx[i] {
					t.Errorf("%s published outside the change's transaction", e.EventName())
				}
				got = append(got, withoutIDAndTime(t, e, f.user.ID))
			}
			if diff := cmp.Diff(c.want.events, got); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
		})
	}
}

// TestEmailChangeNeedsTheCurrentPassword: without it, or with a wrong
// one, nothing is written and nobody is told; a rename costs no read.
func TestEmailChangeNeedsTheCurrentPassword(t *testing.T) {
	for name, c := range map[string]struct {
		patch usersvc.ProfilePatch
		want  []string
	}{
		"missing": {usersvc.ProfilePatch{Email: ptr("new@example.com")}, []string{"current_password:required"}},
		"empty":   {usersvc.ProfilePatch{Email: ptr("new@example.com"), CurrentPassword: ptr("")}, []string{"current_password:required"}},
		"wrong":   {usersvc.ProfilePatch{Email: ptr("new@example.com"), CurrentPassword: ptr("not it at all")}, []string{"current_password:incorrect_password"}},
		"wrong, with a rename only": {
			usersvc.ProfilePatch{FullName: ptr("Zoë"), CurrentPassword: ptr("not it at all")}, []string{"current_password:incorrect_password"},
		},
		"bad email and missing password together": {
			usersvc.ProfilePatch{Email: ptr("not an email")}, []string{"current_password:required", "email:invalid_email"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, true)
			_, err := f.svc.UpdateProfile(context.Background(), f.user.ID, c.patch)
			if got := fields(err); !slices.Equal(got, c.want) {
				t.Fatalf("errors %v, want %v (%v)", got, c.want, err)
			}
			if f.store.writes != 0 || len(f.told.sent) != 0 || len(f.revoked.resets) != 0 {
				t.Fatalf("a refused change wrote %d times, told %v, ended resets %v", f.store.writes, f.told.sent, f.revoked.resets)
			}
		})
	}
	f := newFixture(t, true)
	if _, err := f.svc.UpdateProfile(context.Background(), f.user.ID, usersvc.ProfilePatch{FullName: ptr("Zoë")}); err != nil || f.store.reads != 0 {
		t.Fatalf("a rename: %v, %d reads (want none)", err, f.store.reads)
	}
}

// TestSuperusersCannotBypassOrLockThemselvesOut: on their own account the
// admin route refuses credentials (self service asks for the password)
// and self-demotion; deleting oneself is refused; nothing is written.
func TestSuperusersCannotBypassOrLockThemselvesOut(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	for name, c := range map[string]struct {
		patch usersvc.Patch
		want  error
	}{
		"own email":     {usersvc.Patch{Email: ptr("boss@example.com")}, usersvc.ErrSelfService},
		"own password":  {usersvc.Patch{Password: ptr("a new long passphrase")}, usersvc.ErrSelfService},
		"deactivate":    {usersvc.Patch{IsActive: ptr(false)}, usersvc.ErrDemoteSelf},
		"drop the role": {usersvc.Patch{Admin: ptr(false)}, usersvc.ErrDemoteSelf},
	} {
		if _, err := f.svc.Update(ctx, f.asAdmin(), f.admin.ID, c.patch); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	if err := f.svc.Delete(ctx, f.asAdmin(), f.admin.ID); !errors.Is(err, usersvc.ErrDeleteSelf) {
		t.Errorf("delete self: %v", err)
	}
	if f.store.writes != 0 || f.hasher.hashed != 0 {
		t.Fatalf("refusals wrote %d times and hashed %d passwords", f.store.writes, f.hasher.hashed)
	}
	// Control: the same edits of a name are allowed.
	if _, err := f.svc.Update(ctx, f.asAdmin(), f.admin.ID, usersvc.Patch{FullName: ptr("Boss")}); err != nil {
		t.Fatalf("own full name through the admin route: %v", err)
	}
}

// TestInputIsCheckedBeforeAnyCost: every failing field is reported at
// once, multibyte text is counted in characters, and nothing is hashed
// or stored for a refused account.
func TestInputIsCheckedBeforeAnyCost(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	_, err := f.svc.Create(ctx, usersvc.System, usersvc.NewUser{Email: " x@example.com", Password: "short", FullName: "line\nbreak"})
	if got, want := fields(err), []string{"email:invalid_email", "full_name:control_characters", "password:password_too_short"}; !slices.Equal(got, want) {
		t.Fatalf("errors %v, want %v", got, want)
	}
	name := strings.Repeat("日", usersvc.MaxFullName)
	if _, err := f.svc.Create(ctx, usersvc.System, usersvc.NewUser{Email: "jp@example.com", Password: userPassword, FullName: name}); err != nil {
		t.Fatalf("%d characters (%d bytes): %v", usersvc.MaxFullName, len(name), err)
	}
	_, err = f.svc.Create(ctx, usersvc.System, usersvc.NewUser{Email: "jp2@example.com", Password: userPassword, FullName: name + "日"})
	if got := fields(err); !slices.Equal(got, []string{"full_name:too_long"}) {
		t.Fatalf("one character more: %v", got)
	}
	if f.hasher.hashed != 1 || f.store.writes != 1 {
		t.Fatalf("hashed %d, wrote %d: refused input must cost neither", f.hasher.hashed, f.store.writes)
	}
	if _, err := f.svc.Create(ctx, usersvc.System, usersvc.NewUser{Email: "ADA@example.com", Password: userPassword}); !errors.Is(err, usersvc.ErrEmailTaken) {
		t.Fatalf("an existing email in capitals: %v", err)
	}
}

// TestPasswordChangeRules: the current password must be right and the new
// one different; neither refusal writes.
func TestPasswordChangeRules(t *testing.T) {
	f := newFixture(t, true)
	ctx := context.Background()
	if got := fields(f.svc.ChangePassword(ctx, f.user.ID, "not it at all", "a new long passphrase")); !slices.Equal(got, []string{"current_password:incorrect_password"}) {
		t.Errorf("wrong current: %v", got)
	}
	if got := fields(f.svc.ChangePassword(ctx, f.user.ID, userPassword, userPassword)); !slices.Equal(got, []string{"new_password:password_unchanged"}) {
		t.Errorf("unchanged: %v", got)
	}
	if got := fields(f.svc.ChangePassword(ctx, f.user.ID, userPassword, "short")); !slices.Equal(got, []string{"new_password:password_too_short"}) {
		t.Errorf("too short: %v", got)
	}
	if f.store.writes != 0 || len(f.revoked.sessions) != 0 {
		t.Fatalf("refusals wrote %d times, ended sessions %v", f.store.writes, f.revoked.sessions)
	}
}

// TestSignupAndBootstrap: closed signup refuses before any cost; the
// first superuser is created once, and a replica that loses the race to
// create it is not an error.
func TestSignupAndBootstrap(t *testing.T) {
	ctx := context.Background()
	closed := newFixture(t, false)
	if _, err := closed.svc.Register(ctx, "new@example.com", userPassword, "", "192.0.2.1"); !errors.Is(err, usersvc.ErrSignupDisabled) || closed.hasher.hashed != 0 {
		t.Fatalf("closed signup: %v, %d hashes", err, closed.hasher.hashed)
	}
	f := newFixture(t, true)
	if created, err := f.svc.EnsureSuperuser(ctx, "Admin@Example.com", "another passphrase"); err != nil || created {
		t.Fatalf("existing superuser (another case): created=%v %v", created, err)
	}
	if created, err := f.svc.EnsureSuperuser(ctx, "root@example.com", "root passphrase long"); err != nil || !created {
		t.Fatalf("new superuser: created=%v %v", created, err)
	}
	if _, err := f.svc.EnsureSuperuser(ctx, "not an email", "x"); err == nil || !strings.Contains(err.Error(), "FIRST_SUPERUSER_EMAIL") {
		t.Fatalf("bad email names the variable: %v", err)
	}
}

// withoutIDAndTime checks that e is about id and happened, and clears
// both for the comparison.
func withoutIDAndTime(t *testing.T, e events.Event, id uuid.UUID) events.Event {
	t.Helper()
	check := func(got uuid.UUID, at time.Time) {
		if got != id || at.IsZero() {
			t.Errorf("%s about %s at %v, want %s and a time", e.EventName(), got, at, id)
		}
	}
	switch e := e.(type) {
	case authn.AccountEmailChanged:
		check(e.UserID, e.At)
		e.UserID, e.At = uuid.Nil, time.Time{}
		return e
	case authn.AccountPasswordChanged:
		check(e.UserID, e.At)
		e.UserID, e.At = uuid.Nil, time.Time{}
		return e
	case authn.AccountDeactivated:
		check(e.UserID, e.At)
		e.UserID, e.At = uuid.Nil, time.Time{}
		return e
	case authn.AccountDeleted:
		check(e.UserID, e.At)
		e.UserID, e.At = uuid.Nil, time.Time{}
		return e
	}
	return e
}
