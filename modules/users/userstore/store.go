// Package userstore persists users with ent. It is the only package that
// queries the users table; it converts ent entities to usersvc.User and
// driver errors to the users domain's errors.
package userstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"

	"github.com/acme/monolith/ent"
	"github.com/acme/monolith/ent/predicate"
	"github.com/acme/monolith/ent/role"
	"github.com/acme/monolith/ent/user"
	"github.com/acme/monolith/modules/users/usersvc"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/authz"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/paging"
	"github.com/acme/monolith/platform/paging/keyset"
	"github.com/acme/monolith/platform/txn"
)

// Store implements usersvc.Storer.
type Store struct {
	db       *ent.Client
	accounts *accountCache
	// versionsSQL is the account cache's per-request check, in the
	// client's dialect.
	versionsSQL string
}

var _ usersvc.Storer = (*Store)(nil)

// New returns the store.
func New(db *ent.Client) *Store {
	return &Store{db: db, accounts: newAccountCache(AccountCacheSize), versionsSQL: versionsSQL(db.Dialect())}
}

// Create inserts a user, with the admin role when asked.
func (s *Store) Create(ctx context.Context, u usersvc.NewAccount) (usersvc.User, error) {
	c := s.client(ctx).User.Create().
		SetID(u.ID).
		SetEmail(u.Email).
		SetFullName(u.FullName).
		SetPasswordHash(u.PasswordHash).
		SetIsActive(u.IsActive).
		SetIsSuperuser(u.Admin)
	if u.Service {
		c.SetKind(user.KindService)
	}
	if u.VerifiedAt != nil {
		c.SetEmailVerified(true).SetEmailVerifiedAt(*u.VerifiedAt)
	}
	if u.Admin {
		c.AddRoleIDs(usersvc.AdminRoleID)
	}
	if _, err := c.Save(ctx); err != nil {
		return usersvc.User{}, translate(err)
	}
	return s.ByID(ctx, u.ID)
}

// ByID finds a user by id, with its roles, in one statement.
func (s *Store) ByID(ctx context.Context, id uuid.UUID) (usersvc.User, error) {
	return byID(ctx, s.client(ctx), id)
}

// accountRow is one row of byID's join: the user's columns and one of
// its roles' (none: NULL).
type accountRow struct {
	ID           uuid.UUID      `sql:"id"`
	Email        string         `sql:"email"`
	FullName     string         `sql:"full_name"`
	PasswordHash string         `sql:"password_hash"`
	IsActive     bool           `sql:"is_active"`
	Kind         string         `sql:"kind"`
	Verified     bool           `sql:"email_verified"`
	VerifiedAt   sql.NullTime   `sql:"email_verified_at"`
	CreatedAt    time.Time      `sql:"created_at"`
	UpdatedAt    time.Time      `sql:"updated_at"`
	RoleID       uuid.NullUUID  `sql:"role_id"`
	RoleName     sql.NullString `sql:"role_name"`
	RolePerms    sql.NullString `sql:"role_permissions"`
	RoleAll      sql.NullBool   `sql:"role_all"`
	AuthzVersion int64          `sql:"authz_version"`
	AuthzEpoch   int64          `sql:"authz_epoch"`
}

// byID loads a user and its roles in one statement (users LEFT JOIN
// user_roles LEFT JOIN roles), so reading them costs one round trip.
func byID(ctx context.Context, db *ent.Client, id uuid.UUID) (usersvc.User, error) {
	return one(ctx, db, user.ID(id))
}

// one is the user matching which, with its roles, in one statement.
func one(ctx context.Context, db *ent.Client, which predicate.User) (usersvc.User, error) {
	u, _, err := load(ctx, db, which)
	return u, err
}

// load is one, with the versions of what it read (accountcache.go), read
// by the same statement so that they describe the same state.
func load(ctx context.Context, db *ent.Client, which predicate.User) (usersvc.User, versions, error) {
	var rows []accountRow
	err := db.User.Query().Where(which).Modify(func(s *sql.Selector) {
		ur, r := sql.Table(user.RolesTable), sql.Table(role.Table)
		s.Select(s.C(user.FieldID), s.C(user.FieldEmail), s.C(user.FieldFullName), s.C(user.FieldPasswordHash),
			s.C(user.FieldIsActive), s.C(user.FieldKind), s.C(user.FieldEmailVerified), s.C(user.FieldEmailVerifiedAt),
			s.C(user.FieldCreatedAt), s.C(user.FieldUpdatedAt), s.C(user.FieldAuthzVersion))
		s.LeftJoin(ur).On(s.C(user.FieldID), ur.C(user.RolesPrimaryKey[0])).
			LeftJoin(r).On(ur.C(user.RolesPrimaryKey[1]), r.C(role.FieldID)).
			AppendSelect(
				sql.As(r.C(role.FieldID), "role_id"), sql.As(r.C(role.FieldName), "role_name"),
				sql.As(r.C(role.FieldPermissions), "role_permissions"), sql.As(r.C(role.FieldAllPermissions), "role_all"),
				epochExpr,
			)
	}).Scan(ctx, &rows)
	if err != nil {
		return usersvc.User{}, versions{}, translate(err)
	}
	if len(rows) == 0 {
		return usersvc.User{}, versions{}, usersvc.ErrNotFound
	}
	first := rows[0]
	u := &ent.User{
		ID: first.ID, Email: first.Email, FullName: first.FullName, PasswordHash: first.PasswordHash,
		IsActive: first.IsActive, Kind: user.Kind(first.Kind), EmailVerified: first.Verified,
		CreatedAt: first.CreatedAt, UpdatedAt: first.UpdatedAt,
	}
	if first.VerifiedAt.Valid {
		u.EmailVerifiedAt = &first.VerifiedAt.Time
	}
	for _, row := range rows {
		if !row.RoleID.Valid {
			continue
		}
		ro := &ent.Role{ID: row.RoleID.UUID, Name: row.RoleName.String, AllPermissions: row.RoleAll.Bool}
		if row.RolePerms.Valid {
			if err := json.Unmarshal([]byte(row.RolePerms.String), &ro.Permissions); err != nil {
				return usersvc.User{}, versions{}, fmt.Errorf("users store: role %s permissions: %w", ro.ID, err)
			}
		}
		u.Edges.Roles = append(u.Edges.Roles, ro)
	}
	return toDomain(u), versions{account: first.AuthzVersion, roles: first.AuthzEpoch}, nil
}

// ByEmail finds a user by normalised email.
func (s *Store) ByEmail(ctx context.Context, email string) (usersvc.User, error) {
	return one(ctx, s.client(ctx), user.Email(email))
}

// List returns a page in the list order (creation time, then id), and
// the total count when asked.
func (s *Store) List(ctx context.Context, r paging.Request) (paging.Result[usersvc.User], error) {
	rows, err := s.client(ctx).User.Query().
		Where(keyset.After(r.After)).
		Order(keyset.Order).
		Limit(r.Limit + 1).
		WithRoles().
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
		n, err := s.client(ctx).User.Query().Count(ctx)
		if err != nil {
			return paging.Result[usersvc.User]{}, fmt.Errorf("count users: %w", err)
		}
		page.Total = &n
	}
	return page, nil
}

// Update applies the non-nil fields of c. A change that could remove an
// active admin runs in a transaction that first makes sure another one
// remains (keepAdmin).
func (s *Store) Update(ctx context.Context, id uuid.UUID, c usersvc.Change) (usersvc.User, error) {
	update := func(db *ent.Client) error {
		// A bulk update by id: the one UPDATE, no read-back (byID reads
		// the row with its roles after it).
		u := db.User.Update().Where(user.ID(id)).
			SetNillableEmail(c.Email).
			SetNillableFullName(c.FullName).
			SetNillablePasswordHash(c.PasswordHash).
			SetNillableIsActive(c.IsActive).
			SetNillableIsSuperuser(c.Admin).
			AddAuthzVersion(1)
		if c.IfPasswordHash != nil {
			u.Where(user.PasswordHash(*c.IfPasswordHash))
		}
		if c.VerifiedAt != nil {
			u.SetEmailVerified(true).SetEmailVerifiedAt(*c.VerifiedAt)
		} else if c.Email != nil {
			// A new address nobody proved is not verified (the service
			// sends no Email that equals the current one).
			u.SetEmailVerified(false).ClearEmailVerifiedAt()
		}
		if c.Admin != nil && *c.Admin {
			// Adding an edge that exists would break the key: remove first.
			u.RemoveRoleIDs(usersvc.AdminRoleID).AddRoleIDs(usersvc.AdminRoleID)
		} else if c.Admin != nil {
			u.RemoveRoleIDs(usersvc.AdminRoleID)
		}
		n, err := u.Save(ctx)
		if err == nil && n == 0 {
			err = usersvc.ErrNotFound
		}
		return err
	}
	var out usersvc.User
	err := s.tx(ctx, func(tx *ent.Tx) error {
		if c.RemovesAdmin() {
			if err := keepAdmin(ctx, tx, id); err != nil {
				return err
			}
		}
		if err := update(tx.Client()); err != nil {
			return err
		}
		var err error
		var seen versions
		if out, seen, err = load(ctx, tx.Client(), user.ID(id)); err != nil {
			return err
		}
		s.keepOnCommit(tx, out, seen)
		return nil
	})
	if err != nil {
		return usersvc.User{}, translate(err)
	}
	return out, nil
}

// Delete removes a user (and its role memberships), unless it is the last
// active admin.
func (s *Store) Delete(ctx context.Context, id uuid.UUID) error {
	err := s.tx(ctx, func(tx *ent.Tx) error {
		if err := keepAdmin(ctx, tx, id); err != nil {
			return err
		}
		return tx.User.DeleteOneID(id).Exec(ctx)
	})
	if err != nil {
		return translate(err)
	}
	return nil
}

// keepAdmin refuses, inside tx, to take id out of the active admins when
// it is the last one. Counting alone is not enough on Postgres: under READ
// COMMITTED two transactions demoting each other would each count the
// other and both commit. So every such transaction first locks the admin
// role's row (FOR NO KEY UPDATE: guards queue behind each other, while
// inserting a membership, which only takes a key-share lock on the role
// for its foreign key, is not held up), and counts after it holds the
// lock: each statement of a READ COMMITTED transaction sees what was
// committed before it started, so the second guard counts without the
// admin the first one removed. The lock is the guard's first, so guards
// cannot deadlock on each other. SQLite has no row locks and needs none:
// with _txlock=immediate (platform/database) a write transaction holds
// the database's write lock from BEGIN, so the count is already
// serialised.
func keepAdmin(ctx context.Context, tx *ent.Tx, id uuid.UUID) error {
	if _, err := tx.Role.Query().Where(role.ID(usersvc.AdminRoleID), lockRow).Only(ctx); err != nil {
		return fmt.Errorf("lock the admin role: %w", err)
	}
	activeAdmin := user.And(user.IsActive(true), user.HasRolesWith(role.ID(usersvc.AdminRoleID)))
	others, err := tx.User.Query().Where(activeAdmin, user.IDNEQ(id)).Exist(ctx)
	if err != nil {
		return fmt.Errorf("count active admins: %w", err)
	}
	if others {
		return nil
	}
	last, err := tx.User.Query().Where(activeAdmin, user.ID(id)).Exist(ctx)
	if err != nil {
		return fmt.Errorf("count active admins: %w", err)
	}
	if last {
		return usersvc.ErrLastSuperuser
	}
	return nil
}

// lockRow adds FOR NO KEY UPDATE to the query on Postgres. It is written
// as a predicate because a predicate sees the dialect of the query being
// built, and the store is given only the ent client.
func lockRow(s *sql.Selector) {
	if s.Dialect() == dialect.Postgres {
		s.For(sql.LockNoKeyUpdate)
	}
}

// tx runs fn in the caller's transaction (txn.Run) when there is one, so
// what the caller writes beside it commits with it; otherwise in its own.
func (s *Store) tx(ctx context.Context, fn func(*ent.Tx) error) error {
	return txn.Run(ctx, s.db, func(ctx context.Context) error { return fn(ent.TxFromContext(ctx)) })
}

// client is the client of one call: the caller's transaction's, if any.
func (s *Store) client(ctx context.Context) *ent.Client { return txn.Client(ctx, s.db) }

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
	u := usersvc.User{
		ID:            r.ID,
		Email:         r.Email,
		FullName:      r.FullName,
		PasswordHash:  r.PasswordHash,
		IsActive:      r.IsActive,
		Kind:          string(r.Kind),
		EmailVerified: r.EmailVerified,
		Roles:         []authn.RoleRef{},
		CreatedAt:     r.CreatedAt.UTC(),
		UpdatedAt:     r.UpdatedAt.UTC(),
	}
	roles := slices.Clone(r.Edges.Roles)
	slices.SortFunc(roles, func(a, b *ent.Role) int { return strings.Compare(a.Name, b.Name) })
	grants := make([]authz.Set, len(roles))
	for i, ro := range roles {
		u.Roles = append(u.Roles, authn.RoleRef{ID: ro.ID, Name: ro.Name})
		grants[i] = roleDomain(ro).Grants()
	}
	u.Permissions = authz.Union(grants...)
	if r.EmailVerifiedAt != nil {
		at := r.EmailVerifiedAt.UTC()
		u.EmailVerifiedAt = &at
	}
	return u
}

// InTx runs fn in one transaction carried by ctx (or the caller's), so
// that a service's write and the audit entry it records commit together.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return txn.Run(ctx, s.db, fn)
}
