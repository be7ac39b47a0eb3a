package usersvc

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/acme/monolith/platform/audit"
	"github.com/acme/monolith/platform/authn"
)

// Transactor runs fn in one transaction carried by ctx (platform/txn): a
// store write and the audit entry describing it commit or roll back
// together.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// direct is the Transactor of a service without one (fakes): fn as is.
type direct struct{}

func (direct) InTx(ctx context.Context, fn func(ctx context.Context) error) error { return fn(ctx) }

// Actions the users module records.
const (
	ActionUserRegistered   = "users.user.registered"
	ActionUserCreated      = "users.user.created"
	ActionUserUpdated      = "users.user.updated"
	ActionUserDeleted      = "users.user.deleted"
	ActionEmailChanged     = "users.email.changed"
	ActionEmailVerified    = "users.email.verified"
	ActionEmailChangeAsked = "users.email.change_requested"
	ActionEmailChangeEnded = "users.email.change_cancelled"
	ActionPasswordChanged  = "users.password.changed"
	ActionPasswordReset    = "users.password.reset"
	ActionRoleCreated      = "users.role.created"
	ActionRoleRenamed      = "users.role.renamed"
	ActionRolePermissions  = "users.role.permissions_set"
	ActionRoleDeleted      = "users.role.deleted"
	ActionRoleAssigned     = "users.role.assigned"
	ActionRoleUnassigned   = "users.role.unassigned"
	targetUser, targetRole = "user", "role"
)

// actor is who is acting in ctx: the signed-in caller of a request, or
// the system (the CLI, the first-start bootstrap).
func actor(ctx context.Context) audit.Actor {
	if p, err := authn.CurrentUser(ctx); err == nil {
		return audit.User(p.UserID.String())
	}
	return audit.System
}

// record appends an entry about target by the actor of ctx, in ctx's
// transaction.
func (s *Service) record(ctx context.Context, action, targetType string, id uuid.UUID, payload audit.Payload) error {
	return s.audit.Record(ctx, audit.Entry{
		Actor: actor(ctx), Action: action,
		Target: audit.Target{Type: targetType, ID: id.String()}, Payload: payload,
	})
}

// changedFields names what a change touches, never its values: the audit
// log says that an email or a password changed, not to what.
func changedFields(c Change) string {
	var f []string
	if c.Email != nil {
		f = append(f, "email")
	}
	if c.FullName != nil {
		f = append(f, "full_name")
	}
	if c.PasswordHash != nil {
		f = append(f, "password")
	}
	if c.IsActive != nil {
		f = append(f, "is_active")
	}
	if c.Admin != nil {
		f = append(f, "admin")
	}
	return strings.Join(f, ",")
}
