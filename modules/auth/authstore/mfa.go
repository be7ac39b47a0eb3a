package authstore

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/acme/monolith/ent"
	"github.com/acme/monolith/ent/apikey"
	"github.com/acme/monolith/ent/mfachallenge"
	"github.com/acme/monolith/ent/mfafactor"
	"github.com/acme/monolith/ent/mfarecoverycode"
	"github.com/acme/monolith/ent/session"
	"github.com/acme/monolith/modules/auth/authsvc"
)

var _ authsvc.MFAStore = (*Store)(nil)

// Factor finds userID's factor, confirmed or pending.
func (s *Store) Factor(ctx context.Context, userID uuid.UUID) (authsvc.Factor, error) {
	r, err := s.client(ctx).MFAFactor.Query().Where(mfafactor.UserID(userID)).Only(ctx)
	if err != nil {
		return authsvc.Factor{}, notFound(err)
	}
	f := authsvc.Factor{ID: r.ID, UserID: r.UserID, Sealed: r.SecretSealed, CreatedAt: r.CreatedAt.UTC(), LastStep: r.LastStep}
	if r.ConfirmedAt != nil {
		t := r.ConfirmedAt.UTC()
		f.ConfirmedAt = &t
	}
	return f, nil
}

// PutPendingFactor replaces userID's pending factor with f. The unique
// user_id index makes two concurrent enrolments leave one row.
func (s *Store) PutPendingFactor(ctx context.Context, f authsvc.Factor) error {
	return s.tx(ctx, func(tx *ent.Tx) error {
		n, err := tx.MFAFactor.Query().Where(mfafactor.UserID(f.UserID), mfafactor.ConfirmedAtNotNil()).Count(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			return authsvc.ErrMFAEnabled
		}
		if _, err := tx.MFAFactor.Delete().Where(mfafactor.UserID(f.UserID)).Exec(ctx); err != nil {
			return err
		}
		err = tx.MFAFactor.Create().SetID(f.ID).SetUserID(f.UserID).SetSecretSealed(f.Sealed).SetCreatedAt(f.CreatedAt).Exec(ctx)
		if err != nil {
			return fmt.Errorf("store pending factor: %w", err)
		}
		return nil
	})
}

// ConfirmFactor confirms the pending factor (a conditional update: a
// concurrent confirmation finds it confirmed) and stores the codes.
func (s *Store) ConfirmFactor(ctx context.Context, userID uuid.UUID, step int64, codeHashes []string, now time.Time) (bool, error) {
	var ok bool
	err := s.tx(ctx, func(tx *ent.Tx) error {
		n, err := tx.MFAFactor.Update().
			Where(mfafactor.UserID(userID), mfafactor.ConfirmedAtIsNil(), mfafactor.LastStepLT(step)).
			SetConfirmedAt(now).SetLastStep(step).Save(ctx)
		if err != nil || n == 0 {
			return err
		}
		if _, err := tx.MFARecoveryCode.Delete().Where(mfarecoverycode.UserID(userID)).Exec(ctx); err != nil {
			return err
		}
		rows := make([]*ent.MFARecoveryCodeCreate, len(codeHashes))
		for i, h := range codeHashes {
			rows[i] = tx.MFARecoveryCode.Create().SetUserID(userID).SetCodeHash(h).SetCreatedAt(now)
		}
		if err := tx.MFARecoveryCode.CreateBulk(rows...).Exec(ctx); err != nil {
			return err
		}
		ok = true
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("confirm factor: %w", err)
	}
	return ok, nil
}

// AcceptStep moves the confirmed factor's last step forward to step; the
// condition makes a replay, concurrent or not, update nothing.
func (s *Store) AcceptStep(ctx context.Context, userID uuid.UUID, step int64) (bool, error) {
	n, err := s.client(ctx).MFAFactor.Update().
		Where(mfafactor.UserID(userID), mfafactor.ConfirmedAtNotNil(), mfafactor.LastStepLT(step)).
		SetLastStep(step).Save(ctx)
	if err != nil {
		return false, fmt.Errorf("accept step: %w", err)
	}
	return n == 1, nil
}

// UseRecoveryCode marks the unused code used (conditional: once).
func (s *Store) UseRecoveryCode(ctx context.Context, userID uuid.UUID, codeHash string, now time.Time) (bool, error) {
	n, err := s.client(ctx).MFARecoveryCode.Update().
		Where(mfarecoverycode.UserID(userID), mfarecoverycode.CodeHash(codeHash), mfarecoverycode.UsedAtIsNil()).
		SetUsedAt(now).Save(ctx)
	if err != nil {
		return false, fmt.Errorf("use recovery code: %w", err)
	}
	return n == 1, nil
}

// RecoveryCodesLeft counts userID's unused recovery codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, userID uuid.UUID) (int, error) {
	return s.client(ctx).MFARecoveryCode.Query().Where(mfarecoverycode.UserID(userID), mfarecoverycode.UsedAtIsNil()).Count(ctx)
}

// DeleteFactor removes everything of userID's second factor.
func (s *Store) DeleteFactor(ctx context.Context, userID uuid.UUID) error {
	return s.tx(ctx, func(tx *ent.Tx) error {
		if _, err := tx.MFARecoveryCode.Delete().Where(mfarecoverycode.UserID(userID)).Exec(ctx); err != nil {
			return fmt.Errorf("delete recovery codes: %w", err)
		}
		if _, err := tx.MFAChallenge.Delete().Where(mfachallenge.UserID(userID)).Exec(ctx); err != nil {
			return fmt.Errorf("delete mfa tokens: %w", err)
		}
		if _, err := tx.MFAFactor.Delete().Where(mfafactor.UserID(userID)).Exec(ctx); err != nil {
			return fmt.Errorf("delete factor: %w", err)
		}
		return nil
	})
}

// CreateChallenge stores an mfa_token by its hash.
func (s *Store) CreateChallenge(ctx context.Context, c authsvc.Challenge, tokenHash string) error {
	return s.client(ctx).MFAChallenge.Create().SetID(c.ID).SetUserID(c.UserID).SetTokenHash(tokenHash).
		SetClientID(c.ClientID).SetCreatedAt(c.CreatedAt).SetExpiresAt(c.ExpiresAt).Exec(ctx)
}

// Challenge finds an mfa_token by its hash.
func (s *Store) Challenge(ctx context.Context, tokenHash string) (authsvc.Challenge, error) {
	r, err := s.client(ctx).MFAChallenge.Query().Where(mfachallenge.TokenHash(tokenHash)).Only(ctx)
	if err != nil {
		return authsvc.Challenge{}, notFound(err)
	}
	return authsvc.Challenge{ID: r.ID, UserID: r.UserID, ClientID: r.ClientID, CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()}, nil
}

// ConsumeChallenge deletes an unexpired mfa_token: of concurrent uses,
// one deletes it.
func (s *Store) ConsumeChallenge(ctx context.Context, id uuid.UUID, now time.Time) (bool, error) {
	n, err := s.client(ctx).MFAChallenge.Delete().Where(mfachallenge.ID(id), mfachallenge.ExpiresAtGT(now)).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("consume mfa token: %w", err)
	}
	return n == 1, nil
}

// SecureAccount revokes userID's API keys and its sessions but keep
// (announced to every replica), and records amr on keep.
func (s *Store) SecureAccount(ctx context.Context, userID, keep uuid.UUID, amr []string, now time.Time) error {
	return s.announced(ctx, "u:"+userID.String(), func(tx *ent.Tx) error {
		if _, err := tx.APIKey.Update().Where(apikey.UserID(userID), apikey.RevokedAtIsNil()).SetRevokedAt(now).Save(ctx); err != nil {
			return fmt.Errorf("revoke api keys: %w", err)
		}
		if _, err := tx.Session.Update().Where(session.UserID(userID), session.IDNEQ(keep), session.RevokedAtIsNil()).
			SetRevokedAt(now).SetRevokeReason(authsvc.ReasonMFAEnabled).Save(ctx); err != nil {
			return fmt.Errorf("revoke sessions: %w", err)
		}
		if _, err := tx.Session.Update().Where(session.ID(keep), session.UserID(userID)).SetAmr(amr).Save(ctx); err != nil {
			return fmt.Errorf("record amr: %w", err)
		}
		return nil
	})
}
