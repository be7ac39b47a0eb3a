// Package userstore persists users with ent. It is the only package that
// queries the users table; it converts ent entities to usersvc.User and
// driver errors to the users domain's errors.
package userstore

import (
	"context"
	"fmt"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/acme/monolith/ent"
	"github.com/acme/monolith/ent/user"
	"github.com/acme/monolith/modules/users/usersvc"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/paging"
	"github.com/acme/monolith/platform/paging/keyset"
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

// List returns a page in the list order (creation time, then id), and
// the total count when asked.
func (s *Store) List(ctx context.Context, r paging.Request) (paging.Result[usersvc.User], error) {
	rows, err := s.db.User.Query().
		Where(keyset.After(r.After)).
		Order(keyset.Order).
		Limit(r.Limit + 1).
		All(ctx)
	if err != nil {
		return paging.Result[usersvc.User]{}, fmt.Errorf("list users: %w", err)
	}
	out := make([]usersvc.User, len(rows))
	for i, row := range rows {
		out[i] = toDomain(row)
	}
	page := paging.Trim(out, r.Limit, func(u usersvc.User) paging.Cursor {
		return paging.Cursor{CreatedAt: u.CreatedAt, ID: u.ID}
	})
	if r.Total {
		n, err := s.db.User.Query().Count(ctx)
		if err != nil {
			return paging.Result[usersvc.User]{}, fmt.Errorf("count users: %w", err)
		}
		page.Total = &n
	}
	return page, nil
}

// Update applies the non-nil fields of c. A change that could remove an
// active superuser runs in a transaction that first makes sure another one
// remains (keepSuperuser).
func (s *Store) Update(ctx context.Context, id uuid.UUID, c usersvc.Change) (usersvc.User, error) {
	update := func(db *ent.Client) (*ent.User, error) {
		return db.User.UpdateOneID(id).
			SetNillableEmail(c.Email).
			SetNillableFullName(c.FullName).
			SetNillablePasswordHash(c.PasswordHash).
			SetNillableIsActive(c.IsActive).
			SetNillableIsSuperuser(c.IsSuperuser).
			Save(ctx)
	}
	if !c.RemovesSuperuser() {
		row, err := update(s.db)
		if err != nil {
			return usersvc.User{}, translate(err)
		}
		return toDomain(row), nil
	}
	var row *ent.User
	err := s.tx(ctx, func(tx *ent.Tx) error {
		if err := keepSuperuser(ctx, tx, id); err != nil {
			return err
		}
		var err error
		row, err = update(tx.Client())
		return err
	})
	if err != nil {
		return usersvc.User{}, translate(err)
	}
	return toDomain(row), nil
}

// Delete removes a user, unless it is the last active superuser.
func (s *Store) Delete(ctx context.Context, id uuid.UUID) error {
	err := s.tx(ctx, func(tx *ent.Tx) error {
		if err := keepSuperuser(ctx, tx, id); err != nil {
			return err
		}
		return tx.User.DeleteOneID(id).Exec(ctx)
	})
	if err != nil {
		return translate(err)
	}
	return nil
}

// keepSuperuser refuses, inside tx, to take id out of the active
// superusers when it is the last one. Counting is not enough on Postgres:
// under READ COMMITTED two transactions removing each other's superuser
// would each count the other and both commit. So the rows of the active
// superusers and of id are locked first (SELECT ... FOR UPDATE): a
// concurrent removal waits for this transaction to end, then re-reads the
// rows it waited for and no longer counts the one removed. The rows are
// locked in id order and include id, so every guard takes its locks in one
// global order and the removal that follows needs no further lock: guards
// queue, they cannot deadlock. SQLite has no row locks and needs none:
// with _txlock=immediate (platform/database) a write transaction holds the
// database's write lock from BEGIN, so the count is already serialised.
func keepSuperuser(ctx context.Context, tx *ent.Tx, id uuid.UUID) error {
	rows, err := tx.User.Query().
		Where(user.Or(user.And(user.IsSuperuser(true), user.IsActive(true)), user.ID(id)), lockForUpdate).
		Order(ent.Asc(user.FieldID)).
		Select(user.FieldID, user.FieldIsSuperuser, user.FieldIsActive).
		All(ctx)
	if err != nil {
		return fmt.Errorf("lock active superusers: %w", err)
	}
	var active []uuid.UUID
	for _, r := range rows {
		if r.IsSuperuser && r.IsActive {
			active = append(active, r.ID)
		}
	}
	if len(active) == 1 && active[0] == id {
		return usersvc.ErrLastSuperuser
	}
	return nil
}

// lockForUpdate adds FOR UPDATE to the query on Postgres. It is written
// as a predicate because a predicate sees the dialect of the query being
// built, and the store is given only the ent client.
func lockForUpdate(s *sql.Selector) {
	if s.Dialect() == dialect.Postgres {
		s.ForUpdate()
	}
}

func (s *Store) tx(ctx context.Context, fn func(*ent.Tx) error) error {
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func translate(err error) error {
	if _, ok := fault.As(err); ok {
		return err
	}
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
