package userstore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/google/uuid"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/acme/monolith/ent"
	"github.com/acme/monolith/ent/user"
	"github.com/acme/monolith/modules/users/usersvc"
	"github.com/acme/monolith/platform/txn"
)

// AccountCacheSize is how many accounts a process keeps. An entry is a
// few hundred bytes; past the bound the least recently used goes, and
// costs one reload when it comes back.
const AccountCacheSize = 4096

// versions say which state of an account a load saw: the account's own
// counter (users.authz_version, advanced by every write of the row or
// its roles) and the roles' counter (authz_epochs, advanced by every
// change of a role's permissions, name or existence). Any write that
// changes what an account resolves to advances one of them in its own
// transaction, so equal versions mean the same account.
type versions struct {
	account int64
	roles   int64
}

type cachedAccount struct {
	user usersvc.User
	seen versions
}

// accountCache keeps the accounts the resolver loaded, each with the
// versions its load read in the same statement. It holds no password
// hash.
//
// It needs no invalidation message: a request checks the two versions
// with one primary-key read, which sees every transaction committed
// before it started, on any replica, through any pooler, and from the
// CLI's process on the same SQLite file. A load that raced with a write
// carries the versions from before that write, so it can be stored but
// never served: the next check reads the new versions and reloads.
type accountCache struct {
	entries *lru.Cache[uuid.UUID, cachedAccount]
}

func newAccountCache(size int) *accountCache {
	c, err := lru.New[uuid.UUID, cachedAccount](size)
	if err != nil {
		// Only a size below 1 fails, and the size is a constant.
		panic(fmt.Sprintf("users store: account cache: %v", err))
	}
	return &accountCache{entries: c}
}

// Account is the per-request lookup behind authn.Accounts: the account
// and its roles as of this call, answered from the cache when the
// versions say nothing changed since it was loaded (one primary-key read
// instead of the users/roles join). Inside a transaction it reads
// through, so a transaction sees its own writes.
func (s *Store) Account(ctx context.Context, id uuid.UUID) (usersvc.User, error) {
	if txn.InTx(ctx) {
		return s.ByID(ctx, id)
	}
	if e, ok := s.accounts.entries.Get(id); ok {
		now, err := s.currentVersions(ctx, id)
		if errors.Is(err, usersvc.ErrNotFound) {
			s.accounts.entries.Remove(id)
		}
		if err != nil {
			return usersvc.User{}, err
		}
		if now == e.seen {
			return shared(e.user), nil
		}
	}
	u, seen, err := load(ctx, s.db, user.ID(id))
	if err != nil {
		if errors.Is(err, usersvc.ErrNotFound) {
			s.accounts.entries.Remove(id)
		}
		return usersvc.User{}, err
	}
	kept := u
	kept.PasswordHash = ""
	s.accounts.entries.Add(id, cachedAccount{user: kept, seen: seen})
	return shared(kept), nil
}

// keepOnCommit caches u, as tx's own statement read it (seen), once tx
// commits, so that the writer's next request does not reload what it has
// just written. Nothing is kept if tx rolls back: versions that never
// committed could later be reached by a different write. A write
// committed by someone else between this commit and the store leaves the
// entry older than the database, which the next check sees.
func (s *Store) keepOnCommit(tx *ent.Tx, u usersvc.User, seen versions) {
	u.PasswordHash = ""
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if err == nil {
				s.accounts.entries.Add(u.ID, cachedAccount{user: u, seen: seen})
			}
			return err
		})
	})
}

// shared is a cached user handed to a caller: the slice it could append
// to is its own.
func shared(u usersvc.User) usersvc.User {
	u.Roles = slices.Clone(u.Roles)
	return u
}

// epochColumn reads the roles' counter next to a user's columns; no row
// yet (no role was ever changed) is 0.
const epochColumn = "authz_epoch"

var epochExpr = sql.As("COALESCE((SELECT "+quote("version")+" FROM "+quote("authz_epochs")+" WHERE "+quote("id")+" = 1), 0)", epochColumn)

// quote is an identifier quoted the same way for Postgres and SQLite.
func quote(ident string) string { return `"` + ident + `"` }

// versionsSQL is the statement currentVersions runs on every request,
// written out once per dialect: through ent's builder the same text cost
// more than a hundred allocations per request to assemble.
func versionsSQL(dia string) string {
	arg := "?"
	if dia == dialect.Postgres {
		arg = "$1"
	}
	return "SELECT " + quote(user.FieldAuthzVersion) + ", COALESCE((SELECT " + quote("version") + " FROM " + quote("authz_epochs") +
		" WHERE " + quote("id") + " = 1), 0) FROM " + quote(user.Table) + " WHERE " + quote(user.FieldID) + " = " + arg
}

// currentVersions reads the account's versions: one row by primary key,
// on the client's driver, so the platform's per-call deadline and error
// classification apply as they do to ent's own statements.
func (s *Store) currentVersions(ctx context.Context, id uuid.UUID) (versions, error) {
	var rows sql.Rows
	if err := s.db.QueryRows(ctx, s.versionsSQL, []any{id}, &rows); err != nil {
		return versions{}, fmt.Errorf("account versions: %w", translate(err))
	}
	var v versions
	found := rows.Next()
	if found {
		if err := rows.Scan(&v.account, &v.roles); err != nil {
			_ = rows.Close()
			return versions{}, fmt.Errorf("account versions: %w", translate(err))
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return versions{}, fmt.Errorf("account versions: %w", translate(err))
	}
	if !found {
		return versions{}, usersvc.ErrNotFound
	}
	return v, nil
}

// advanceRoles advances the roles' counter inside tx, the transaction of
// a role change: every cached account is then reloaded on its next
// request. The upsert creates the row on the first change (both
// databases), so no migration seeds it; concurrent changes queue on the
// row and each advances it.
func advanceRoles(ctx context.Context, tx *ent.Tx) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO "+quote("authz_epochs")+" ("+quote("id")+", "+quote("version")+") VALUES (1, 1) "+
		"ON CONFLICT ("+quote("id")+") DO UPDATE SET "+quote("version")+" = "+quote("authz_epochs")+"."+quote("version")+" + 1")
	if err != nil {
		return fmt.Errorf("advance the roles' version: %w", err)
	}
	return nil
}
