package authn_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/authz"
)

// keys recognises "key_" and grants perms on behalf of owner.
type keys struct {
	id, owner uuid.UUID
	perms     authz.Set
	calls     *int
}

func (k keys) Recognizes(token string) bool { return strings.HasPrefix(token, "key_") }

func (k keys) VerifyAPIKey(context.Context, string) (authn.KeyClaims, error) {
	*k.calls++
	return authn.KeyClaims{KeyID: k.id, Owner: k.owner, Permissions: k.perms}, nil
}

// TestResolverKeys: a bearer value with the key prefix goes to the key
// verifier, never to the JWT verifier, and the principal holds the key's
// permissions intersected with the owner's (an admin owner: the key's;
// a key holding what its owner lost: not that); other values go to the
// JWT verifier. An inactive owner's key is refused like a bad token.
func TestResolverKeys(t *testing.T) {
	calls := 0
	k := keys{id: uuid.New(), owner: uuid.New(), perms: authz.Of("users:read", "users:write"), calls: &calls}
	r := authn.NewResolver(verifier{err: authn.ErrInvalidToken}, accounts{perms: authz.Of("users:read", "roles:read")}, 0).WithKeys(k)
	p, err := r.Resolve(t.Context(), "Bearer key_abc")
	if err != nil || p.KeyID != k.id || p.UserID != k.owner || !p.ViaKey() || p.SessionID != uuid.Nil {
		t.Fatalf("principal %+v, %v", p, err)
	}
	if !p.Permissions.Has("users:read") || p.Permissions.Has("users:write") || p.Permissions.Has("roles:read") {
		t.Fatalf("permissions %+v, want users:read only", p.Permissions)
	}
	admin := authn.NewResolver(verifier{}, accounts{perms: authz.All()}, 0).WithKeys(k)
	if p, _ := admin.Resolve(t.Context(), "Bearer key_abc"); p.Permissions.IsAll() || !p.Permissions.Has("users:write") {
		t.Fatalf("an admin's key: %+v, want the key's own", p.Permissions)
	}
	if _, err := r.Resolve(t.Context(), "Bearer eyJhbGciOi.x.y"); err == nil || calls != 2 {
		t.Fatalf("a JWT reached the key verifier (%d calls) or passed: %v", calls, err)
	}
	inactive := authn.NewResolver(verifier{}, accounts{inactive: true}, 0).WithKeys(k)
	if _, err := inactive.Resolve(t.Context(), "Bearer key_abc"); !errors.Is(err, authn.ErrInvalidToken) {
		t.Fatalf("inactive owner: %v", err)
	}
}
