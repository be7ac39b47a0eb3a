// Package userschema holds the users module's wire DTOs. They are the only
// shapes that cross the API boundary: none has a password hash field, so a
// hash cannot leak by accident.
//
// Input bodies are never marked writeOnly: they are input-only already,
// and code generators turn a writeOnly field into an optional pointer, so
// a required password would silently be left out.
package userschema

import (
	"time"

	"github.com/google/uuid"
)

// User is an account as clients see it.
type User struct {
	ID          uuid.UUID `json:"id" doc:"User id."`
	Email       string    `json:"email" format:"email" doc:"Email address, stored lower-cased." example:"ada@example.com"`
	FullName    string    `json:"full_name" example:"Ada Lovelace"`
	IsActive    bool      `json:"is_active" example:"true"`
	Kind        string    `json:"kind" enum:"user,service" doc:"A person (user) or a service account, which has no password and acts only through API keys." example:"user"`
	IsSuperuser bool      `json:"is_superuser" doc:"Whether the account holds the built-in admin role (every permission)." example:"false"`
	Roles       []RoleRef `json:"roles" nullable:"false" doc:"The account's roles, by name."`
	// EmailVerified is whether the holder proved they receive mail at
	// email (a verification link, or a confirmed email change).
	EmailVerified   bool       `json:"email_verified" doc:"Whether the holder proved they receive mail at email: a verification link was opened, or the address came from a confirmed change. Accounts created by an administrator, and those that existed before verification, count as verified." example:"true"`
	EmailVerifiedAt *time.Time `json:"email_verified_at,omitempty" doc:"When it was verified." example:"2026-03-14T09:30:00Z"`
	CreatedAt       time.Time  `json:"created_at" example:"2026-03-14T09:26:53Z"`
	UpdatedAt       time.Time  `json:"updated_at" example:"2026-03-14T09:26:53Z"`
}

// ProfileUpdated is the answer to PATCH /api/users/me: the account, and
// the new address waiting for its confirmation link to be opened.
type ProfileUpdated struct {
	User
	PendingEmail string `json:"pending_email,omitempty" doc:"With EMAIL_VERIFICATION on: the new address, mailed a confirmation link; email stays the account's until the link is used." example:"ada.lovelace@example.com"`
}

// Registered is the answer to a registration with EMAIL_VERIFICATION on:
// the same whether or not the address already had an account.
type Registered struct {
	Message string `json:"message" example:"Check your mailbox: a link to verify the address is on its way."`
}

// Me is the signed-in user's own account, with what it may do.
type Me struct {
	User
	Permissions []string `json:"permissions" nullable:"false" doc:"Every permission the account's roles grant, sorted (an admin: every declared permission)." example:"users:read"`
}

// RoleRef names a role an account holds.
type RoleRef struct {
	ID   uuid.UUID `json:"id" doc:"Role id."`
	Name string    `json:"name" example:"support"`
}

// Role is a named set of permissions.
type Role struct {
	ID             uuid.UUID `json:"id" doc:"Role id."`
	Name           string    `json:"name" example:"support"`
	Permissions    []string  `json:"permissions" nullable:"false" doc:"The permissions the role grants, sorted (empty when all_permissions)." example:"users:read"`
	AllPermissions bool      `json:"all_permissions" doc:"The role grants every permission, declared now or later (the built-in admin role)." example:"false"`
	Builtin        bool      `json:"builtin" doc:"Built-in roles cannot be renamed, changed or deleted." example:"false"`
	CreatedAt      time.Time `json:"created_at" example:"2026-03-14T09:26:53Z"`
	UpdatedAt      time.Time `json:"updated_at" example:"2026-03-14T09:26:53Z"`
}

// Permission is one permission a module declared.
type Permission struct {
	Name        string `json:"name" example:"users:read"`
	Description string `json:"description" example:"List and read every account"`
}

// Permissions is every declared permission, sorted by name: one page, as
// the set is declared by the code, not stored.
type Permissions struct {
	Items []Permission `json:"items" nullable:"false"`
}

// CreateRole is the body of POST /api/roles.
type CreateRole struct {
	Name        string   `json:"name" minLength:"1" maxLength:"64" doc:"Unique; at most 64 characters." example:"support"`
	Permissions []string `json:"permissions,omitempty" maxItems:"256" nullable:"false" doc:"Declared permissions, each one you hold." example:"users:read"`
}

// RenameRole is the body of PATCH /api/roles/{id}.
type RenameRole struct {
	Name string `json:"name" minLength:"1" maxLength:"64" example:"helpdesk"`
}

// RolePermissions is the body of PUT /api/roles/{id}/permissions: the
// whole new set.
type RolePermissions struct {
	Permissions []string `json:"permissions" maxItems:"256" nullable:"false" doc:"Declared permissions; every one added or removed must be one you hold." example:"users:read"`
}

// Register is the body of POST /api/auth/register.
type Register struct {
	Email    string `json:"email" format:"email" maxLength:"254" doc:"Email address; case-insensitive and unique." example:"ada@example.com"`
	Password string `json:"password" minLength:"8" maxLength:"128" doc:"8 to 128 characters; the most common passwords are refused." example:"correct horse battery staple"`
	FullName string `json:"full_name,omitempty" maxLength:"255" example:"Ada Lovelace"`
}

// Create is the body of POST /api/users (superuser).
type Create struct {
	Email       string `json:"email" format:"email" maxLength:"254" example:"grace@example.com"`
	Password    string `json:"password" minLength:"8" maxLength:"128" example:"correct horse battery staple"`
	FullName    string `json:"full_name,omitempty" maxLength:"255" example:"Grace Hopper"`
	IsActive    *bool  `json:"is_active,omitempty" doc:"Default true." example:"true"`
	IsSuperuser bool   `json:"is_superuser,omitempty" doc:"Give the account the admin role (only an admin may)." example:"false"`
}

// UpdateMe is the body of PATCH /api/users/me: absent fields are unchanged.
// A new email needs the current password in the same request; with
// EMAIL_VERIFICATION on, the answer keeps the old email and names the
// pending one (ProfileUpdated).
type UpdateMe struct {
	Email           *string `json:"email,omitempty" format:"email" maxLength:"254" dependentRequired:"current_password" doc:"New sign-in email; needs current_password." example:"ada.lovelace@example.com"`
	FullName        *string `json:"full_name,omitempty" maxLength:"255" example:"Ada King"`
	CurrentPassword *string `json:"current_password,omitempty" maxLength:"128" doc:"Your current password: required with email, checked whenever sent." example:"correct horse battery staple"`
}

// Update is the body of PATCH /api/users/{id} (superuser). On one's own
// id, email and password are refused: they change through /api/users/me.
type Update struct {
	Email       *string `json:"email,omitempty" format:"email" maxLength:"254" example:"grace.hopper@example.com"`
	FullName    *string `json:"full_name,omitempty" maxLength:"255" example:"Grace Brewster Hopper"`
	Password    *string `json:"password,omitempty" minLength:"8" maxLength:"128" example:"a new long passphrase"`
	IsActive    *bool   `json:"is_active,omitempty" example:"false"`
	IsSuperuser *bool   `json:"is_superuser,omitempty" doc:"Give or take the admin role (only an admin may)." example:"false"`
}

// ChangePassword is the body of POST /api/users/me/password.
type ChangePassword struct {
	CurrentPassword string `json:"current_password" minLength:"1" maxLength:"128" example:"correct horse battery staple"`
	NewPassword     string `json:"new_password" minLength:"8" maxLength:"128" example:"a new long passphrase"`
}

// NewServiceAccount creates a service account.
type NewServiceAccount struct {
	Email    string `json:"email" maxLength:"254" minLength:"1" doc:"Its unique name, in the form of an email address (a team's address, or e.g. ci@service.invalid); never mailed for a password reset." example:"ci@service.invalid"`
	FullName string `json:"full_name,omitempty" maxLength:"255" example:"Nightly export"`
}
