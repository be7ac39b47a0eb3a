// Package userschema holds the users module's wire DTOs. They are the only
// shapes that cross the API boundary: none has a password hash field, so a
// hash cannot leak by accident.
package userschema

import (
	"time"

	"github.com/google/uuid"
)

// User is an account as clients see it.
type User struct {
	ID          uuid.UUID `json:"id" doc:"User id (UUID)."`
	Email       string    `json:"email" format:"email" doc:"Email address, stored lower-cased."`
	FullName    string    `json:"full_name"`
	IsActive    bool      `json:"is_active"`
	IsSuperuser bool      `json:"is_superuser"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Register is the body of POST /api/auth/register.
type Register struct {
	Email    string `json:"email" format:"email" maxLength:"254" doc:"Email address; case-insensitive and unique."`
	Password string `json:"password" minLength:"8" maxLength:"128" writeOnly:"true" doc:"8 to 128 characters."`
	FullName string `json:"full_name,omitempty" maxLength:"255"`
}

// Create is the body of POST /api/users (superuser).
type Create struct {
	Email       string `json:"email" format:"email" maxLength:"254"`
	Password    string `json:"password" minLength:"8" maxLength:"128" writeOnly:"true"`
	FullName    string `json:"full_name,omitempty" maxLength:"255"`
	IsActive    *bool  `json:"is_active,omitempty" doc:"Default true."`
	IsSuperuser bool   `json:"is_superuser,omitempty"`
}

// UpdateMe is the body of PATCH /api/users/me: absent fields are unchanged.
// A new email needs the current password in the same request. When email
// confirmation comes, this body stays as it is: the answer will then keep
// the old email and add a pending one (User gains pending_email).
type UpdateMe struct {
	Email           *string `json:"email,omitempty" format:"email" maxLength:"254" dependentRequired:"current_password" doc:"New sign-in email; needs current_password."`
	FullName        *string `json:"full_name,omitempty" maxLength:"255"`
	CurrentPassword *string `json:"current_password,omitempty" maxLength:"128" writeOnly:"true" doc:"Your current password: required with email, checked whenever sent."`
}

// Update is the body of PATCH /api/users/{id} (superuser). On one's own
// id, email and password are refused: they change through /api/users/me.
type Update struct {
	Email       *string `json:"email,omitempty" format:"email" maxLength:"254"`
	FullName    *string `json:"full_name,omitempty" maxLength:"255"`
	Password    *string `json:"password,omitempty" minLength:"8" maxLength:"128" writeOnly:"true"`
	IsActive    *bool   `json:"is_active,omitempty"`
	IsSuperuser *bool   `json:"is_superuser,omitempty"`
}

// ChangePassword is the body of POST /api/users/me/password.
type ChangePassword struct {
	CurrentPassword string `json:"current_password" minLength:"1" maxLength:"128" writeOnly:"true"`
	NewPassword     string `json:"new_password" minLength:"8" maxLength:"128" writeOnly:"true"`
}

// Page is one page of users.
type Page struct {
	Items  []User `json:"items"`
	Total  int    `json:"total" doc:"Number of users in all pages."`
	Limit  int    `json:"limit"`
	Offset int    `json:"offset"`
}
