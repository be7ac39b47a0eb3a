package authsvc

import (
	"crypto/sha256"
	"errors"
	"reflect"
	"testing"

	"github.com/acme/monolith/platform/throttle"
)

// TestClientsAuthenticate (RFC 6749 §2.3.1): a public client authenticates
// by its id alone and must present no secret; a confidential client only
// with its secret; an unknown client never. A request naming no client is
// "" (the grant decides what that means), unless it carries a secret.
func TestClientsAuthenticate(t *testing.T) {
	sum := sha256.Sum256([]byte("s3cret"))
	c := NewClients([]ClientRegistration{{ID: "web"}, {ID: "backend", SecretSHA256: sum[:]}}, "web")
	for _, tc := range []struct {
		name, id, secret, want string
		ok                     bool
	}{
		{"public", "web", "", "web", true},
		{"confidential", "backend", "s3cret", "backend", true},
		{"none named", "", "", "", true},
		{"secret without a client", "", "s3cret", "", false},
		{"secret for a public client", "web", "anything", "", false},
		{"wrong secret", "backend", "s3cret!", "", false},
		{"missing secret", "backend", "", "", false},
		{"unknown client", "stranger", "", "", false},
		{"unknown client with a secret", "stranger", "s3cret", "", false},
	} {
		got, err := c.Authenticate(tc.id, tc.secret)
		if tc.ok != (err == nil) || got != tc.want || (err != nil && !errors.Is(err, ErrInvalidClient)) {
			t.Errorf("%s: %q, %v", tc.name, got, err)
		}
	}
	if c.Default() != "web" {
		t.Fatalf("default = %q", c.Default())
	}
}

// TestPresentedSecretsAreThrottled: a client secret is a guess at a
// credential, so presenting one reserves an attempt of the address's
// allowance before it is checked (and over the limit it is not checked);
// naming a public client costs nothing.
func TestPresentedSecretsAreThrottled(t *testing.T) {
	r := newRig(t)
	if _, err := r.svc.AuthenticateClient(t.Context(), "203.0.113.7", "web", ""); err != nil || len(r.limiter.reserved) != 0 {
		t.Fatalf("public client: %v, %d reservations", err, len(r.limiter.reserved))
	}
	if _, err := r.svc.AuthenticateClient(t.Context(), "203.0.113.7", "backend", "wrong"); !errors.Is(err, ErrInvalidClient) {
		t.Fatalf("wrong secret: %v", err)
	}
	if len(r.limiter.reserved) != 1 || len(r.limiter.reserved[0]) != 1 || !reflect.DeepEqual(r.limiter.reserved[0][0], r.svc.limits.ClientIP.Key(throttle.Address("203.0.113.7"))) {
		t.Fatalf("reservations %v", r.limiter.reserved)
	}
	r.limiter.refuse = true
	if _, err := r.svc.AuthenticateClient(t.Context(), "203.0.113.7", "backend", rigSecret); !errors.Is(err, ErrThrottled) {
		t.Fatalf("right secret over the limit: %v", err)
	}
}
