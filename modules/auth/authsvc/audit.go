package authsvc

import (
	"context"

	"github.com/google/uuid"

	"github.com/acme/monolith/platform/audit"
	"github.com/acme/monolith/platform/authn"
)

// Transactor runs fn in one transaction carried by ctx (platform/txn): a
// session write and the audit entry describing it commit or roll back
// together.
type Transactor interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// direct is the Transactor of a service without one (fakes): fn as is.
type direct struct{}

func (direct) InTx(ctx context.Context, fn func(ctx context.Context) error) error { return fn(ctx) }

// Actions the auth module records.
const (
	ActionSignIn         = "auth.sign_in.succeeded"
	ActionSignInFailed   = "auth.sign_in.failed"
	ActionRefreshReuse   = "auth.refresh.reuse_detected"
	ActionSignOut        = "auth.session.revoked"
	ActionSignOutAll     = "auth.sessions.revoked"
	ActionResetRequested = "auth.password_reset.requested"
	// API keys, in the transaction of the key's insert and of its
	// revocation (target the key; never its secret or hash).
	ActionKeyCreated      = "auth.key.created"
	ActionKeyRevoked      = "auth.key.revoked"
	targetUser, targetSes = "user", "session"
	targetKey             = "api_key"
)

// actor is who is acting in ctx: the signed-in caller of a request, or
// the system.
func actor(ctx context.Context) audit.Actor {
	if p, err := authn.CurrentUser(ctx); err == nil {
		return audit.User(p.UserID.String())
	}
	return audit.System
}

// recorder and transactor default to doing nothing special.
func recorder(r audit.Recorder) audit.Recorder {
	if r == nil {
		return audit.Discard{}
	}
	return r
}

func transactor(t Transactor) Transactor {
	if t == nil {
		return direct{}
	}
	return t
}

// sessionEntry is an entry about a session of user.
func sessionEntry(by audit.Actor, action string, user, session uuid.UUID, reason string) audit.Entry {
	return audit.Entry{
		Actor: by, Action: action, Target: audit.Target{Type: targetSes, ID: session.String()},
		Payload: audit.Payload{"user_id": user.String(), "reason": reason},
	}
}
