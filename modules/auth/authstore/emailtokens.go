package authstore

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/acme/monolith/ent"
	"github.com/acme/monolith/ent/emailtoken"
	"github.com/acme/monolith/modules/auth/authsvc"
)

var _ authsvc.EmailTokenStore = (*Store)(nil)

// CreateEmailToken stores a token hash; the user's older tokens of the
// same purpose are dropped, so only the latest email works.
func (s *Store) CreateEmailToken(ctx context.Context, t authsvc.EmailToken) error {
	return s.tx(ctx, func(tx *ent.Tx) error {
		purpose := emailtoken.Purpose(t.Purpose)
		if _, err := tx.EmailToken.Delete().Where(emailtoken.UserID(t.UserID), emailtoken.PurposeEQ(purpose)).Exec(ctx); err != nil {
			return fmt.Errorf("replace email tokens: %w", err)
		}
		err := tx.EmailToken.Create().SetUserID(t.UserID).SetPurpose(purpose).SetEmail(t.Email).
			SetTokenHash(t.Hash).SetCreatedAt(t.Created).SetExpiresAt(t.Expires).Exec(ctx)
		if err != nil {
			return fmt.Errorf("store email token: %w", err)
		}
		return nil
	})
}

// ConsumeEmailToken marks a token used with a conditional update: of two
// concurrent redemptions only one succeeds. A token of another purpose is
// not found.
func (s *Store) ConsumeEmailToken(ctx context.Context, purpose authsvc.Purpose, hash string, now time.Time) (uuid.UUID, string, error) {
	db := s.client(ctx)
	row, err := db.EmailToken.Query().Where(emailtoken.TokenHash(hash), emailtoken.PurposeEQ(emailtoken.Purpose(purpose))).Only(ctx)
	if err != nil {
		return uuid.Nil, "", notFound(err)
	}
	n, err := db.EmailToken.Update().
		Where(emailtoken.ID(row.ID), emailtoken.UsedAtIsNil(), emailtoken.ExpiresAtGT(now)).
		SetUsedAt(now).Save(ctx)
	if err != nil {
		return uuid.Nil, "", fmt.Errorf("spend email token: %w", err)
	}
	if n == 0 {
		return uuid.Nil, "", authsvc.ErrNoSession
	}
	return row.UserID, row.Email, nil
}

// DeleteEmailTokens removes the user's tokens of purpose, or all of them
// for "".
func (s *Store) DeleteEmailTokens(ctx context.Context, userID uuid.UUID, purpose authsvc.Purpose) error {
	q := s.client(ctx).EmailToken.Delete().Where(emailtoken.UserID(userID))
	if purpose != "" {
		q.Where(emailtoken.PurposeEQ(emailtoken.Purpose(purpose)))
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("delete email tokens: %w", err)
	}
	return nil
}
