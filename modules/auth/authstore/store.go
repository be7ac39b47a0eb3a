// Package authstore persists the auth module's state with ent: sessions,
// refresh tokens, signing keys and reset tokens. It is
// the only package that queries those tables; it converts entities to
// authsvc types and "not found" to authsvc.ErrNoSession.
package authstore

import (
	"context"
	"fmt"
	"time"

	"entgo.io/ent/dialect"
	"github.com/google/uuid"

	"github.com/acme/monolith/ent"
	"github.com/acme/monolith/ent/apikey"
	"github.com/acme/monolith/ent/emailtoken"
	"github.com/acme/monolith/ent/mfachallenge"
	"github.com/acme/monolith/ent/passwordreset"
	"github.com/acme/monolith/ent/refreshtoken"
	"github.com/acme/monolith/ent/session"
	"github.com/acme/monolith/ent/signingkey"
	"github.com/acme/monolith/modules/auth/authsvc"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/paging"
	"github.com/acme/monolith/platform/paging/keyset"
	"github.com/acme/monolith/platform/txn"
)

// Store implements the authsvc store interfaces.
type Store struct {
	db      *ent.Client
	dialect string
	// local receives this process's session announcements after commit
	// (the SessionCache); nil when there is none.
	local func(payload string)
}

// SessionsChannel is the Postgres notification channel on which session
// changes are announced to every replica's SessionCache, and signing-key
// removals to every replica's key ring (payload KeyRemoved + kid).
const SessionsChannel = "auth_sessions"

// KeyRemoved prefixes the announcement of a removed signing key.
const KeyRemoved = "k:"

var (
	_ authsvc.SessionStore = (*Store)(nil)
	_ authsvc.KeyStore     = (*Store)(nil)
	_ authsvc.ResetStore   = (*Store)(nil)
)

// New returns the store.
func New(db *database.DB) *Store { return &Store{db: db.Ent, dialect: db.Dialect} }

// announced runs fn in a transaction that also announces payload (see
// SessionCache): on Postgres with NOTIFY, delivered to every listener when
// the transaction commits; to this process's cache right after the commit.
// Inside a caller's transaction (a password change revoking sessions in
// its own), the announcement waits for that transaction's commit: told
// earlier, this process's cache could reload the session as it still is
// and keep it after the commit revoked it.
func (s *Store) announced(ctx context.Context, payload string, fn func(*ent.Tx) error) error {
	joined := txn.InTx(ctx)
	err := s.tx(ctx, func(tx *ent.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		if joined && s.local != nil {
			tx.OnCommit(func(next ent.Committer) ent.Committer {
				return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
					err := next.Commit(ctx, tx)
					// Even after a failed commit: whether it took effect is unknown.
					s.local(payload)
					return err
				})
			})
		}
		if s.dialect != dialect.Postgres {
			return nil
		}
		if _, err := tx.ExecContext(ctx, "SELECT pg_notify($1, $2)", SessionsChannel, payload); err != nil {
			return fmt.Errorf("announce %s: %w", payload, err)
		}
		return nil
	})
	if !joined && s.local != nil {
		// Even after a failed commit: whether it took effect is unknown.
		s.local(payload)
	}
	return err
}

func notFound(err error) error {
	if ent.IsNotFound(err) {
		return authsvc.ErrNoSession
	}
	return err
}

// CreateSession stores a session and its first refresh token together.
func (s *Store) CreateSession(ctx context.Context, x authsvc.Session, refreshHash string) error {
	return s.tx(ctx, func(tx *ent.Tx) error {
		if err := tx.Session.Create().SetID(x.ID).SetUserID(x.UserID).SetClientID(x.ClientID).
			SetUserAgent(x.UserAgent).SetIP(x.IP).SetCreatedAt(x.CreatedAt).SetLastUsedAt(x.LastUsedAt).
			SetExpiresAt(x.ExpiresAt).SetAmr(x.AMR).Exec(ctx); err != nil {
			return fmt.Errorf("create session: %w", err)
		}
		if err := tx.RefreshToken.Create().SetSessionID(x.ID).SetTokenHash(refreshHash).SetCreatedAt(x.CreatedAt).Exec(ctx); err != nil {
			return fmt.Errorf("create refresh token: %w", err)
		}
		return nil
	})
}

// Session finds a session by id (primary key: the per-request check).
func (s *Store) Session(ctx context.Context, id uuid.UUID) (authsvc.Session, error) {
	row, err := s.client(ctx).Session.Get(ctx, id)
	if err != nil {
		return authsvc.Session{}, notFound(err)
	}
	return toSession(row), nil
}

// ActiveSessions lists unrevoked, unexpired sessions used since usedSince,
// oldest first (the list convention).
func (s *Store) ActiveSessions(ctx context.Context, userID uuid.UUID, now, usedSince time.Time, r paging.Request) (paging.Result[authsvc.Session], error) {
	rows, err := s.client(ctx).Session.Query().
		Where(session.UserID(userID), session.RevokedAtIsNil(), session.ExpiresAtGT(now), session.LastUsedAtGT(usedSince),
			keyset.After(r.After)).
		Order(keyset.Order).Limit(r.Limit + 1).All(ctx)
	if err != nil {
		return paging.Result[authsvc.Session]{}, err
	}
	out := make([]authsvc.Session, len(rows))
	for i, row := range rows {
		out[i] = toSession(row)
	}
	page := paging.Trim(out, r.Limit, func(x authsvc.Session) paging.Cursor {
		return paging.Cursor{CreatedAt: x.CreatedAt, ID: x.ID}
	})
	if r.Total {
		n, err := s.client(ctx).Session.Query().
			Where(session.UserID(userID), session.RevokedAtIsNil(), session.ExpiresAtGT(now), session.LastUsedAtGT(usedSince)).
			Count(ctx)
		if err != nil {
			return paging.Result[authsvc.Session]{}, err
		}
		page.Total = &n
	}
	return page, nil
}

// RevokeSession marks a session revoked (idempotent: the first reason stays).
func (s *Store) RevokeSession(ctx context.Context, id uuid.UUID, reason string, now time.Time) error {
	return s.announced(ctx, "s:"+id.String(), func(tx *ent.Tx) error {
		_, err := tx.Session.Update().Where(session.ID(id), session.RevokedAtIsNil()).
			SetRevokedAt(now).SetRevokeReason(reason).Save(ctx)
		return err
	})
}

// RevokeUserSessions revokes every live session of a user.
func (s *Store) RevokeUserSessions(ctx context.Context, userID uuid.UUID, reason string, now time.Time) error {
	return s.announced(ctx, "u:"+userID.String(), func(tx *ent.Tx) error {
		_, err := tx.Session.Update().Where(session.UserID(userID), session.RevokedAtIsNil()).
			SetRevokedAt(now).SetRevokeReason(reason).Save(ctx)
		return err
	})
}

// RefreshToken finds a refresh token by hash.
func (s *Store) RefreshToken(ctx context.Context, hash string) (authsvc.RefreshToken, error) {
	row, err := s.client(ctx).RefreshToken.Query().Where(refreshtoken.TokenHash(hash)).Only(ctx)
	if err != nil {
		return authsvc.RefreshToken{}, notFound(err)
	}
	return authsvc.RefreshToken{ID: row.ID, SessionID: row.SessionID, CreatedAt: row.CreatedAt, RotatedAt: row.RotatedAt, ChildNonce: row.ChildNonce}, nil
}

// Rotate marks parent rotated with a conditional update, so of two
// concurrent rotations exactly one wins, then stores the child and touches
// the session (announced: cached copies hold the old last-used time).
func (s *Store) Rotate(ctx context.Context, parent authsvc.RefreshToken, nonce, childHash string, now time.Time) (bool, error) {
	won := false
	err := s.announced(ctx, "s:"+parent.SessionID.String(), func(tx *ent.Tx) error {
		n, err := tx.RefreshToken.Update().
			Where(refreshtoken.ID(parent.ID), refreshtoken.RotatedAtIsNil()).
			SetRotatedAt(now).SetChildNonce(nonce).Save(ctx)
		if err != nil || n == 0 {
			return err
		}
		if err := tx.RefreshToken.Create().SetSessionID(parent.SessionID).SetTokenHash(childHash).SetCreatedAt(now).Exec(ctx); err != nil {
			return err
		}
		if err := tx.Session.UpdateOneID(parent.SessionID).SetLastUsedAt(now).Exec(ctx); err != nil {
			return err
		}
		won = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("rotate refresh token: %w", err)
	}
	return won, nil
}

// Keys returns the whole key set.
func (s *Store) Keys(ctx context.Context) ([]authsvc.StoredKey, error) {
	rows, err := s.client(ctx).SigningKey.Query().All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]authsvc.StoredKey, len(rows))
	for i, r := range rows {
		out[i] = authsvc.StoredKey{KID: r.ID, Alg: r.Alg, State: string(r.State), Sealed: r.PrivateSealed,
			CreatedAt: r.CreatedAt, ActivatedAt: r.ActivatedAt, VerifyUntil: r.VerifyUntil}
	}
	return out, nil
}

// EnsureCurrent stores k as current unless a current key exists.
func (s *Store) EnsureCurrent(ctx context.Context, k authsvc.StoredKey) error {
	return s.tx(ctx, func(tx *ent.Tx) error {
		n, err := tx.SigningKey.Query().Where(signingkey.StateEQ(signingkey.StateCurrent)).Count(ctx)
		if err != nil || n > 0 {
			return err
		}
		exists, err := tx.SigningKey.Query().Where(signingkey.ID(k.KID)).Exist(ctx)
		if err != nil {
			return err
		}
		now := time.Now().UTC().Truncate(time.Microsecond)
		if exists { // the configured key was retired earlier: sign with it again
			return tx.SigningKey.UpdateOneID(k.KID).SetState(signingkey.StateCurrent).SetActivatedAt(now).ClearVerifyUntil().Exec(ctx)
		}
		err = tx.SigningKey.Create().SetID(k.KID).SetAlg(k.Alg).SetState(signingkey.StateCurrent).
			SetPrivateSealed(k.Sealed).SetCreatedAt(now).SetActivatedAt(now).Exec(ctx)
		if ent.IsConstraintError(err) { // another replica stored it first
			return nil
		}
		return err
	})
}

// RotateKeys advances the rotation pipeline in one transaction.
func (s *Store) RotateKeys(ctx context.Context, k authsvc.StoredKey, now, verifyUntil time.Time) (string, error) {
	var promoted string
	err := s.tx(ctx, func(tx *ent.Tx) error {
		next, err := tx.SigningKey.Query().Where(signingkey.StateEQ(signingkey.StateNext)).
			Order(ent.Desc(signingkey.FieldCreatedAt)).First(ctx)
		if err != nil && !ent.IsNotFound(err) {
			return err
		}
		if next != nil {
			if _, err := tx.SigningKey.Update().Where(signingkey.StateEQ(signingkey.StateCurrent)).
				SetState(signingkey.StateRetired).SetVerifyUntil(verifyUntil).Save(ctx); err != nil {
				return err
			}
			if err := tx.SigningKey.UpdateOneID(next.ID).SetState(signingkey.StateCurrent).SetActivatedAt(now).Exec(ctx); err != nil {
				return err
			}
			promoted = next.ID
		}
		if _, err := tx.SigningKey.Delete().Where(signingkey.StateEQ(signingkey.StateRetired), signingkey.VerifyUntilLT(now)).Exec(ctx); err != nil {
			return err
		}
		return tx.SigningKey.Create().SetID(k.KID).SetAlg(k.Alg).SetState(signingkey.StateNext).
			SetPrivateSealed(k.Sealed).SetCreatedAt(now).Exec(ctx)
	})
	return promoted, err
}

// RemoveKey implements authsvc.KeyStore. The current keys are locked
// first on Postgres, so two removals at once cannot both count the other
// as the current key that remains.
func (s *Store) RemoveKey(ctx context.Context, kid string, replacement *authsvc.StoredKey, now time.Time) (string, error) {
	var promoted string
	err := s.announced(ctx, KeyRemoved+kid, func(tx *ent.Tx) error {
		current := tx.SigningKey.Query().Where(signingkey.StateEQ(signingkey.StateCurrent))
		if s.dialect == dialect.Postgres {
			current = current.ForUpdate()
		}
		currents, err := current.IDs(ctx)
		if err != nil {
			return err
		}
		row, err := tx.SigningKey.Get(ctx, kid)
		if ent.IsNotFound(err) {
			return authsvc.ErrKeyNotFound
		}
		if err != nil {
			return err
		}
		if row.State == signingkey.StateCurrent && len(currents) == 1 {
			if replacement == nil {
				return authsvc.ErrOnlyCurrentKey
			}
			next, err := tx.SigningKey.Query().Where(signingkey.StateEQ(signingkey.StateNext)).
				Order(ent.Desc(signingkey.FieldCreatedAt)).First(ctx)
			switch {
			case err == nil:
				err = tx.SigningKey.UpdateOneID(next.ID).SetState(signingkey.StateCurrent).SetActivatedAt(now).Exec(ctx)
				promoted = next.ID
			case ent.IsNotFound(err):
				err = tx.SigningKey.Create().SetID(replacement.KID).SetAlg(replacement.Alg).SetState(signingkey.StateCurrent).
					SetPrivateSealed(replacement.Sealed).SetCreatedAt(now).SetActivatedAt(now).Exec(ctx)
				promoted = replacement.KID
			}
			if err != nil {
				return err
			}
		}
		return tx.SigningKey.DeleteOneID(kid).Exec(ctx)
	})
	return promoted, err
}

// CreateReset stores a reset token hash; older unused tokens of the user
// are dropped, so only the latest email works.
func (s *Store) CreateReset(ctx context.Context, userID uuid.UUID, hash string, now, expires time.Time) error {
	return s.tx(ctx, func(tx *ent.Tx) error {
		if _, err := tx.PasswordReset.Delete().Where(passwordreset.UserID(userID)).Exec(ctx); err != nil {
			return err
		}
		return tx.PasswordReset.Create().SetUserID(userID).SetTokenHash(hash).SetCreatedAt(now).SetExpiresAt(expires).Exec(ctx)
	})
}

// ConsumeReset marks a token used with a conditional update: of two
// concurrent redemptions only one succeeds.
func (s *Store) ConsumeReset(ctx context.Context, hash string, now time.Time) (uuid.UUID, error) {
	row, err := s.client(ctx).PasswordReset.Query().Where(passwordreset.TokenHash(hash)).Only(ctx)
	if err != nil {
		return uuid.Nil, notFound(err)
	}
	n, err := s.client(ctx).PasswordReset.Update().
		Where(passwordreset.ID(row.ID), passwordreset.UsedAtIsNil(), passwordreset.ExpiresAtGT(now)).
		SetUsedAt(now).Save(ctx)
	if err != nil {
		return uuid.Nil, err
	}
	if n == 0 {
		return uuid.Nil, authsvc.ErrNoSession
	}
	return row.UserID, nil
}

// DeleteResets removes every reset token of a user.
func (s *Store) DeleteResets(ctx context.Context, userID uuid.UUID) error {
	if _, err := s.client(ctx).PasswordReset.Delete().Where(passwordreset.UserID(userID)).Exec(ctx); err != nil {
		return fmt.Errorf("delete reset tokens: %w", err)
	}
	return nil
}

// tx runs fn in the caller's transaction (txn.Run) when there is one, so
// what the caller writes beside it commits with it; otherwise in its own.
func (s *Store) tx(ctx context.Context, fn func(*ent.Tx) error) error {
	return txn.Run(ctx, s.db, func(ctx context.Context) error { return fn(ent.TxFromContext(ctx)) })
}

// client is the client of one call: the caller's transaction's, if any.
func (s *Store) client(ctx context.Context) *ent.Client { return txn.Client(ctx, s.db) }

func toSession(r *ent.Session) authsvc.Session {
	return authsvc.Session{
		ID: r.ID, UserID: r.UserID, ClientID: r.ClientID, UserAgent: r.UserAgent, IP: r.IP,
		CreatedAt: r.CreatedAt.UTC(), LastUsedAt: r.LastUsedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(), RevokedAt: r.RevokedAt,
		AMR: r.Amr,
	}
}

// Prune deletes what can no longer be used: sessions (with their refresh
// tokens) expired or revoked before cutoff expired reset and email tokens. It
// returns how many sessions it removed. (Throttle counters are the
// platform's: platform/throttle prunes them.)
func (s *Store) Prune(ctx context.Context, now, cutoff time.Time) (int, error) {
	ids, err := s.client(ctx).Session.Query().
		Where(session.Or(session.ExpiresAtLT(cutoff), session.RevokedAtLT(cutoff))).
		Limit(1000).IDs(ctx)
	if err != nil {
		return 0, err
	}
	if len(ids) > 0 {
		err = s.tx(ctx, func(tx *ent.Tx) error {
			if _, err := tx.RefreshToken.Delete().Where(refreshtoken.SessionIDIn(ids...)).Exec(ctx); err != nil {
				return err
			}
			_, err := tx.Session.Delete().Where(session.IDIn(ids...)).Exec(ctx)
			return err
		})
		if err != nil {
			return 0, fmt.Errorf("prune sessions: %w", err)
		}
	}
	if _, err := s.client(ctx).PasswordReset.Delete().Where(passwordreset.ExpiresAtLT(now)).Exec(ctx); err != nil {
		return 0, fmt.Errorf("prune reset tokens: %w", err)
	}
	if _, err := s.client(ctx).MFAChallenge.Delete().Where(mfachallenge.ExpiresAtLT(now)).Exec(ctx); err != nil {
		return 0, fmt.Errorf("prune mfa tokens: %w", err)
	}
	if _, err := s.client(ctx).EmailToken.Delete().Where(emailtoken.ExpiresAtLT(now)).Exec(ctx); err != nil {
		return 0, fmt.Errorf("prune email tokens: %w", err)
	}
	// API keys dead for the retention too: kept a while, like sessions,
	// so an investigation can still tell which key a request used.
	if _, err := s.client(ctx).APIKey.Delete().Where(apikey.Or(apikey.ExpiresAtLT(cutoff), apikey.RevokedAtLT(cutoff))).Exec(ctx); err != nil {
		return 0, fmt.Errorf("prune api keys: %w", err)
	}
	return len(ids), nil
}

// InTx runs fn in one transaction carried by ctx (or the caller's), so
// that a service's write and the audit entry it records commit together.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return txn.Run(ctx, s.db, fn)
}
