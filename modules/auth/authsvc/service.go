// Package authsvc is the auth module's business logic: the OAuth2 password
// grant and the access tokens it issues. It never imports the users module:
// it declares the Users interface it needs, and fx satisfies it with the
// platform's account directory.
package authsvc

import (
	"context"
	"fmt"

	"github.com/acme/monolith/platform/authn"
)

// Users checks credentials.
type Users interface {
	Authenticate(ctx context.Context, email, password string) (authn.Principal, error)
}

// Service runs the password grant.
type Service struct {
	users  Users
	tokens *Tokens
}

// New returns the service.
func New(users Users, tokens *Tokens) *Service {
	return &Service{users: users, tokens: tokens}
}

// Login exchanges credentials for an access token. A failure for any reason
// the client could change (unknown user, wrong password, inactive account)
// is authn.ErrInvalidCredentials, and costs the same time.
func (s *Service) Login(ctx context.Context, email, password, clientID string) (Issued, error) {
	p, err := s.users.Authenticate(ctx, email, password)
	if err != nil {
		return Issued{}, fmt.Errorf("login: %w", err)
	}
	return s.tokens.Issue(p, clientID)
}
