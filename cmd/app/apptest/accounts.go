package apptest

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"testing"

	"github.com/google/uuid"

	"github.com/acme/monolith/modules/auth/authapi"
	"github.com/acme/monolith/modules/users/userapi"
	"github.com/acme/monolith/platform/testkit"
)

// rolesPath is the users module's roles collection.
const rolesPath = "/api/roles"

// User is a signed-in account created by the kit.
type User struct {
	ID       uuid.UUID `json:"id"`
	Email    string    `json:"email"`
	Password string    `json:"-"`
	Token    string    `json:"-"`
}

// Login runs the password grant and returns the access token.
func (a *App) Login(email, password string) string {
	a.t.Helper()
	res := a.Do(http.MethodPost, authapi.TokenPath, url.Values{
		"grant_type": {"password"}, "username": {email}, "password": {password},
	})
	if res.Status != http.StatusOK {
		a.t.Fatalf("login %s: %d %s", email, res.Status, res.Body)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	res.JSON(a.t, &tok)
	return tok.AccessToken
}

// SuperuserToken is an access token of the bootstrapped superuser.
func (a *App) SuperuserToken() string {
	a.t.Helper()
	if a.token == "" {
		a.token = a.Login(SuperuserEmail, SuperuserPassword)
	}
	return a.token
}

// NewUser creates an active account through the superuser API (so it works
// with signup disabled) and signs it in.
func (a *App) NewUser(superuser bool) User {
	a.t.Helper()
	u := User{Email: "user-" + randomHex(a.t, 5) + "@example.test", Password: "pw-" + randomHex(a.t, 8)}
	res := a.Do(http.MethodPost, userapi.Path, map[string]any{
		"email": u.Email, "password": u.Password, "is_superuser": superuser,
	}, testkit.Bearer(a.SuperuserToken()))
	if res.Status != http.StatusCreated {
		a.t.Fatalf("create user: %d %s", res.Status, res.Body)
	}
	res.JSON(a.t, &u)
	u.Token = a.Login(u.Email, u.Password)
	return u
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// NewUserWith creates an active account holding exactly perms (through a
// new role the bootstrapped admin creates and gives it) and signs it in:
// a module's tests sign in callers of its operations that require
// permissions.
func (a *App) NewUserWith(perms ...string) User {
	a.t.Helper()
	u := a.NewUser(false)
	var role struct {
		ID uuid.UUID `json:"id"`
	}
	res := a.Do(http.MethodPost, rolesPath, map[string]any{"name": "role-" + randomHex(a.t, 5), "permissions": perms},
		testkit.Bearer(a.SuperuserToken()))
	if res.Status != http.StatusCreated {
		a.t.Fatalf("create role: %d %s", res.Status, res.Body)
	}
	res.JSON(a.t, &role)
	res = a.Do(http.MethodPut, userapi.Path+"/"+u.ID.String()+"/roles/"+role.ID.String(), nil, testkit.Bearer(a.SuperuserToken()))
	if res.Status != http.StatusOK {
		a.t.Fatalf("assign role: %d %s", res.Status, res.Body)
	}
	return u
}
