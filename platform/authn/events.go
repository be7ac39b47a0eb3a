package authn

import (
	"time"

	"github.com/google/uuid"
)

// The account events the module that keeps accounts publishes
// (platform/events), each in the transaction of the change it reports.
// They are declared here, with the rest of the accounts contract, so a
// module subscribes without importing the publisher. They carry no
// secret: a delivery is readable in the job queue.

// ChangedBy is who made a change to an account.
type ChangedBy string

// Who changes an account.
const (
	BySelf   ChangedBy = "self"   // the account holder
	ByAdmin  ChangedBy = "admin"  // an administrator
	ByReset  ChangedBy = "reset"  // a password-reset token mailed to the account
	BySystem ChangedBy = "system" // the CLI or the first-start bootstrap
)

// AccountCreated says an account exists (registration, an administrator, the
// CLI).
type AccountCreated struct {
	UserID uuid.UUID `json:"user_id"`
	Email  string    `json:"email"`
	Kind   string    `json:"kind"` // KindUser or KindService
	Active bool      `json:"active"`
	By     ChangedBy `json:"by"`
	At     time.Time `json:"at"`
}

// EventName implements events.Event.
func (AccountCreated) EventName() string { return "account.created" }

// AccountEmailChanged says the sign-in email changed from OldEmail to Email.
type AccountEmailChanged struct {
	UserID   uuid.UUID `json:"user_id"`
	OldEmail string    `json:"old_email"`
	Email    string    `json:"email"`
	By       ChangedBy `json:"by"`
	At       time.Time `json:"at"`
}

// EventName implements events.Event.
func (AccountEmailChanged) EventName() string { return "account.email_changed" }

// AccountPasswordChanged says the password changed (its holder, an
// administrator or a reset); the account's sessions have been ended.
type AccountPasswordChanged struct {
	UserID uuid.UUID `json:"user_id"`
	Email  string    `json:"email"`
	By     ChangedBy `json:"by"`
	At     time.Time `json:"at"`
}

// EventName implements events.Event.
func (AccountPasswordChanged) EventName() string { return "account.password_changed" }

// AccountDeactivated says the account may no longer act; its sessions have
// been ended.
type AccountDeactivated struct {
	UserID uuid.UUID `json:"user_id"`
	Email  string    `json:"email"`
	By     ChangedBy `json:"by"`
	At     time.Time `json:"at"`
}

// EventName implements events.Event.
func (AccountDeactivated) EventName() string { return "account.deactivated" }

// AccountDeleted says the account is gone; what other modules keep for it
// (keyed by UserID) is theirs to remove.
type AccountDeleted struct {
	UserID uuid.UUID `json:"user_id"`
	Email  string    `json:"email"`
	By     ChangedBy `json:"by"`
	At     time.Time `json:"at"`
}

// EventName implements events.Event.
func (AccountDeleted) EventName() string { return "account.deleted" }
