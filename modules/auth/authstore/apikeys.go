package authstore

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/acme/monolith/ent"
	"github.com/acme/monolith/ent/apikey"
	"github.com/acme/monolith/modules/auth/authsvc"
)

var _ authsvc.APIKeyStore = (*Store)(nil)

// CreateAPIKey stores a key by the hash of its secret.
func (s *Store) CreateAPIKey(ctx context.Context, k authsvc.APIKey, secretHash string) error {
	err := s.client(ctx).APIKey.Create().SetID(k.ID).SetUserID(k.UserID).SetName(k.Name).SetHint(k.Hint).
		SetSecretHash(secretHash).SetPermissions(k.Permissions).SetCreatedAt(k.CreatedAt).SetExpiresAt(k.ExpiresAt).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("create api key: %w", err)
	}
	return nil
}

// APIKeyByHash finds a key by the hash of its secret (unique index).
func (s *Store) APIKeyByHash(ctx context.Context, secretHash string) (authsvc.APIKey, error) {
	row, err := s.client(ctx).APIKey.Query().Where(apikey.SecretHash(secretHash)).Only(ctx)
	if err != nil {
		return authsvc.APIKey{}, notFound(err)
	}
	return toAPIKey(row), nil
}

// APIKeys lists userID's live keys, newest first. A user has few keys:
// no paging.
func (s *Store) APIKeys(ctx context.Context, userID uuid.UUID, now time.Time) ([]authsvc.APIKey, error) {
	rows, err := s.client(ctx).APIKey.Query().
		Where(apikey.UserID(userID), apikey.RevokedAtIsNil(), apikey.ExpiresAtGT(now)).
		Order(ent.Desc(apikey.FieldCreatedAt), ent.Desc(apikey.FieldID)).All(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]authsvc.APIKey, len(rows))
	for i, r := range rows {
		out[i] = toAPIKey(r)
	}
	return out, nil
}

// RevokeAPIKey revokes one live key of userID; the conditional update
// makes a concurrent second revocation find nothing.
func (s *Store) RevokeAPIKey(ctx context.Context, userID, id uuid.UUID, now time.Time) error {
	n, err := s.client(ctx).APIKey.Update().
		Where(apikey.ID(id), apikey.UserID(userID), apikey.RevokedAtIsNil(), apikey.ExpiresAtGT(now)).
		SetRevokedAt(now).Save(ctx)
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	if n == 0 {
		return authsvc.ErrNoSession
	}
	return nil
}

// TouchAPIKey records a use, unless one after since is already recorded
// (concurrent requests write once).
func (s *Store) TouchAPIKey(ctx context.Context, id uuid.UUID, now, since time.Time) error {
	_, err := s.client(ctx).APIKey.Update().
		Where(apikey.ID(id), apikey.Or(apikey.LastUsedAtIsNil(), apikey.LastUsedAtLT(since))).
		SetLastUsedAt(now.Truncate(time.Microsecond)).Save(ctx)
	return err
}

func toAPIKey(r *ent.APIKey) authsvc.APIKey {
	k := authsvc.APIKey{
		ID: r.ID, UserID: r.UserID, Name: r.Name, Hint: r.Hint, Permissions: r.Permissions,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
	}
	if r.LastUsedAt != nil {
		t := r.LastUsedAt.UTC()
		k.LastUsedAt = &t
	}
	if r.RevokedAt != nil {
		t := r.RevokedAt.UTC()
		k.RevokedAt = &t
	}
	return k
}
