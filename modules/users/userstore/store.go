// Package userstore persists users with ent. It is the only package that
// queries the users table; it converts ent entities to usersvc.User and
// driver errors to the users domain's errors.
package userstore

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/acme/monolith/ent"
	"github.com/acme/monolith/ent/user"
	"github.com/acme/monolith/modules/users/usersvc"
)

// Store implements usersvc.Storer.
type Store struct {
	db *ent.Client
}

var _ usersvc.Storer = (*Store)(nil)

// New returns the store.
func New(db *ent.Client) *Store { return &Store{db: db} }

// Create inserts a user.
func (s *Store) Create(ctx context.Context, u usersvc.User) (usersvc.User, error) {
	row, err := s.db.User.Create().
		SetID(u.ID).
		SetEmail(u.Email).
		SetFullName(u.FullName).
		SetPasswordHash(u.PasswordHash).
		SetIsActive(u.IsActive).
		SetIsSuperuser(u.IsSuperuser).
		Save(ctx)
	if err != nil {
		return usersvc.User{}, translate(err)
	}
	return toDomain(row), nil
}

// ByID finds a user by id.
func (s *Store) ByID(ctx context.Context, id uuid.UUID) (usersvc.User, error) {
	row, err := s.db.User.Get(ctx, id)
	if err != nil {
		return usersvc.User{}, translate(err)
	}
	return toDomain(row), nil
}

// ByEmail finds a user by normalised email.
func (s *Store) ByEmail(ctx context.Context, email string) (usersvc.User, error) {
	row, err := s.db.User.Query().Where(user.Email(email)).Only(ctx)
	if err != nil {
		return usersvc.User{}, translate(err)
	}
	return toDomain(row), nil
}

// List returns a page in a stable order (creation time, then id) and the
// total count.
func (s *Store) List(ctx context.Context, p usersvc.Page) (usersvc.Listing, error) {
	total, err := s.db.User.Query().Count(ctx)
	if err != nil {
		return usersvc.Listing{}, fmt.Errorf("count users: %w", err)
	}
	rows, err := s.db.User.Query().
		Order(ent.Asc(user.FieldCreatedAt), ent.Asc(user.FieldID)).
		Limit(p.Limit).Offset(p.Offset).
		All(ctx)
	if err != nil {
		return usersvc.Listing{}, fmt.Errorf("list users: %w", err)
	}
	out := make([]usersvc.User, len(rows))
	for i, r := range rows {
		out[i] = toDomain(r)
	}
	return usersvc.Listing{Users: out, Total: total}, nil
}

// Update applies the non-nil fields of c.
func (s *Store) Update(ctx context.Context, id uuid.UUID, c usersvc.Change) (usersvc.User, error) {
	upd := s.db.User.UpdateOneID(id).
		SetNillableEmail(c.Email).
		SetNillableFullName(c.FullName).
		SetNillablePasswordHash(c.PasswordHash).
		SetNillableIsActive(c.IsActive).
		SetNillableIsSuperuser(c.IsSuperuser)
	row, err := upd.Save(ctx)
	if err != nil {
		return usersvc.User{}, translate(err)
	}
	return toDomain(row), nil
}

// Delete removes a user.
func (s *Store) Delete(ctx context.Context, id uuid.UUID) error {
	if err := s.db.User.DeleteOneID(id).Exec(ctx); err != nil {
		return translate(err)
	}
	return nil
}

func translate(err error) error {
	switch {
	case ent.IsNotFound(err):
		return usersvc.ErrNotFound
	case ent.IsConstraintError(err):
		return usersvc.ErrEmailTaken
	default:
		return fmt.Errorf("users store: %w", err)
	}
}

func toDomain(r *ent.User) usersvc.User {
	return usersvc.User{
		ID:           r.ID,
		Email:        r.Email,
		FullName:     r.FullName,
		PasswordHash: r.PasswordHash,
		IsActive:     r.IsActive,
		IsSuperuser:  r.IsSuperuser,
		CreatedAt:    r.CreatedAt.UTC(),
		UpdatedAt:    r.UpdatedAt.UTC(),
	}
}
