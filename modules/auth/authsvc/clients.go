package authsvc

import (
	"crypto/sha256"
	"crypto/subtle"

	"github.com/acme/monolith/platform/fault"
)

// ClientRegistration is a first-party OAuth2 client (RFC 6749 §2.1):
// public when SecretSHA256 is nil, confidential otherwise.
type ClientRegistration struct {
	ID           string
	SecretSHA256 []byte
}

// Clients is the registry the token and revocation endpoints authenticate
// clients against (RFC 6749 §2.3.1).
type Clients struct {
	byID      map[string]ClientRegistration
	defaultID string
}

// NewClients returns the registry; defaultID is the public client a
// request that names none acts as.
func NewClients(regs []ClientRegistration, defaultID string) *Clients {
	c := &Clients{byID: make(map[string]ClientRegistration, len(regs)), defaultID: defaultID}
	for _, r := range regs {
		c.byID[r.ID] = r
	}
	return c
}

// Errors of client authentication.
var (
	// ErrInvalidClient is an unknown client, a wrong or missing secret, or
	// a secret presented for a public client: all alike (RFC 6749 §5.2).
	ErrInvalidClient = fault.New(fault.Unauthenticated, "invalid_client", "Client authentication failed.")
	// ErrUnauthorizedClient is a token revoked by a client it was not
	// issued to (RFC 7009 §2.1).
	ErrUnauthorizedClient = fault.New(fault.Refused, "unauthorized_client", "The token was not issued to this client.")
)

// Authenticate checks a client's credentials and returns its id. An empty
// id is a request that named no client: it is reported as "" (the caller
// decides what that means for its grant), and must carry no secret.
func (c *Clients) Authenticate(id, secret string) (string, error) {
	if id == "" {
		if secret != "" {
			return "", ErrInvalidClient
		}
		return "", nil
	}
	reg, ok := c.byID[id]
	switch {
	case !ok:
		return "", ErrInvalidClient
	case reg.SecretSHA256 == nil:
		// RFC 6749 §2.3: a public client has no credentials to present;
		// one that sends a secret is misconfigured or not who it says.
		if secret != "" {
			return "", ErrInvalidClient
		}
		return id, nil
	default:
		// Hashing first gives the comparison a fixed length, so its time
		// says nothing about the secret's length or prefix.
		sum := sha256.Sum256([]byte(secret))
		if secret == "" || subtle.ConstantTimeCompare(sum[:], reg.SecretSHA256) != 1 {
			return "", ErrInvalidClient
		}
		return id, nil
	}
}

// Default is the public client a request that names none acts as.
func (c *Clients) Default() string { return c.defaultID }

// public reports whether id is a registered public client.
func (c *Clients) public(id string) bool {
	reg, ok := c.byID[id]
	return ok && reg.SecretSHA256 == nil
}

// boundClient is the client a refresh or revocation acts as: the one the
// request authenticated, or, for a request that named none, the token's
// own client if that is public (it has no credentials to repeat). A
// confidential client must authenticate (RFC 6749 §6), and a token whose
// client is no longer registered is dead.
func (c *Clients) boundClient(requested, issuedTo string) (string, error) {
	if requested != "" {
		return requested, nil
	}
	if _, ok := c.byID[issuedTo]; !ok {
		return "", ErrInvalidGrant
	}
	if !c.public(issuedTo) {
		return "", ErrInvalidClient
	}
	return issuedTo, nil
}
