package authsvc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/acme/monolith/platform/audit"
	"github.com/acme/monolith/platform/authn"
	"github.com/acme/monolith/platform/authz"
	"github.com/acme/monolith/platform/fault"
	"github.com/acme/monolith/platform/httpserver"
	"github.com/acme/monolith/platform/throttle"
)

// APIKey is a stored key: never its secret, whose hash only the store sees.
type APIKey struct {
	ID          uuid.UUID
	UserID      uuid.UUID
	Name        string
	Hint        string
	Permissions []string
	CreatedAt   time.Time
	LastUsedAt  *time.Time
	ExpiresAt   time.Time
	RevokedAt   *time.Time
}

// APIKeyStore persists API keys. Lookups that find nothing return
// ErrNoSession.
type APIKeyStore interface {
	CreateAPIKey(ctx context.Context, k APIKey, secretHash string) error
	// APIKeyByHash is the per-request lookup (unique index).
	APIKeyByHash(ctx context.Context, secretHash string) (APIKey, error)
	// APIKeys lists userID's keys that are neither revoked nor expired at now, newest first.
	APIKeys(ctx context.Context, userID uuid.UUID, now time.Time) ([]APIKey, error)
	// RevokeAPIKey revokes userID's key id; ErrNoSession if there is no
	// such live key of that user.
	RevokeAPIKey(ctx context.Context, userID, id uuid.UUID, now time.Time) error
	// TouchAPIKey sets last_used_at to now unless it is after since.
	TouchAPIKey(ctx context.Context, id uuid.UUID, now, since time.Time) error
}

// Errors of API keys.
var (
	ErrAPIKeyNotFound = fault.New(fault.NotFound, "api_key_not_found", "API key not found.")
	// ErrAPIKeyPermission is a key asking for a permission its owner
	// does not hold now.
	ErrAPIKeyPermission = fault.New(fault.Forbidden, "api_key_permission_not_held", "An API key can only hold permissions its owner holds.")
	ErrAPIKeyTTL        = fault.New(fault.Invalid, "api_key_ttl", "The expiry is out of range.")
	ErrAPIKeyName       = fault.New(fault.Invalid, "api_key_name", "must be 1 to 100 characters of text")
	ErrUnknownPerm      = fault.New(fault.Invalid, "unknown_permission", "No module declares this permission.")
)

// APIKeyOptions bound keys.
type APIKeyOptions struct {
	Format     KeyFormat
	DefaultTTL time.Duration
	MaxTTL     time.Duration
	// FailureRule counts failed key attempts per client address.
	FailureRule throttle.Rule
	// TouchEvery bounds how often last_used_at is written per key.
	TouchEvery time.Duration
	// Audit records creations and revocations, in their transaction (Tx).
	Audit audit.Recorder
	Tx    Transactor
}

// APIKeys creates, lists, revokes and verifies API keys; it implements
// authn.KeyVerifier.
type APIKeys struct {
	store   APIKeyStore
	limiter Limiter
	catalog *authz.Catalogue
	opts    APIKeyOptions
	now     func() time.Time
}

var _ authn.KeyVerifier = (*APIKeys)(nil)

// NewAPIKeys returns the API-key service.
func NewAPIKeys(s APIKeyStore, l Limiter, c *authz.Catalogue, o APIKeyOptions) *APIKeys {
	o.Audit, o.Tx = recorder(o.Audit), transactor(o.Tx)
	return &APIKeys{store: s, limiter: l, catalog: c, opts: o, now: time.Now}
}

// SetClock makes k read the time from now (tests of expiry).
func (k *APIKeys) SetClock(now func() time.Time) { k.now = now }

// NewAPIKey is a request for a key.
type NewAPIKey struct {
	Name        string
	Permissions []string
	// TTL is the key's lifetime; 0 means the default.
	TTL time.Duration
	// Service makes a service account's key (prefix <prefix>s_).
	Service bool
}

// Created is a new key with its secret, which is never shown again.
type Created struct {
	APIKey
	Secret string
}

// Create makes a key for owner, whose current permissions are held: the
// key may ask only for permissions among them.
func (k *APIKeys) Create(ctx context.Context, owner uuid.UUID, held authz.Set, req NewAPIKey) (Created, error) {
	name := strings.TrimSpace(req.Name)
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > 100 || strings.ContainsRune(name, 0) {
		return Created{}, ErrAPIKeyName.On("name")
	}
	ttl := req.TTL
	if ttl == 0 {
		ttl = k.opts.DefaultTTL
	}
	if ttl < time.Minute || ttl > k.opts.MaxTTL {
		e := *ErrAPIKeyTTL
		e.Message = fmt.Sprintf("The expiry must be between 1m and %s.", k.opts.MaxTTL)
		return Created{}, e.On("expires_in")
	}
	for _, p := range req.Permissions {
		if !k.catalog.Has(p) {
			e := *ErrUnknownPerm
			e.Message = "No module declares the permission " + p + "."
			return Created{}, e.On("permissions")
		}
	}
	asked := authz.Of(req.Permissions...)
	if ok, missing := held.Covers(asked); !ok {
		e := *ErrAPIKeyPermission
		e.Message = "An API key can only hold permissions its owner holds; the owner lacks " + missing + "."
		return Created{}, &e
	}
	now := k.now().UTC().Truncate(time.Microsecond)
	kind := KindPersonal
	if req.Service {
		kind = KindService
	}
	secret := k.opts.Format.New(kind)
	key := APIKey{
		ID: uuid.New(), UserID: owner, Name: name, Hint: k.opts.Format.Hint(secret),
		Permissions: asked.Names(k.catalog), CreatedAt: now, ExpiresAt: now.Add(ttl),
	}
	err := k.opts.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := k.store.CreateAPIKey(ctx, key, hashKey(secret)); err != nil {
			return err
		}
		return k.opts.Audit.Record(ctx, keyEntry(ctx, ActionKeyCreated, key.ID, owner, audit.Payload{
			"name": audit.Clip(key.Name), "hint": key.Hint, "kind": kind, "permissions": audit.Clip(strings.Join(key.Permissions, " ")),
			"expires_at": key.ExpiresAt.Format(time.RFC3339),
		}))
	})
	if err != nil {
		return Created{}, fmt.Errorf("create api key: %w", err)
	}
	return Created{APIKey: key, Secret: secret}, nil
}

// List is owner's live keys, newest first.
func (k *APIKeys) List(ctx context.Context, owner uuid.UUID) ([]APIKey, error) {
	keys, err := k.store.APIKeys(ctx, owner, k.now().UTC())
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return keys, nil
}

// Revoke ends owner's key id at once: the next request with it fails
// on every replica (nothing caches keys).
func (k *APIKeys) Revoke(ctx context.Context, owner, id uuid.UUID) error {
	err := k.opts.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := k.store.RevokeAPIKey(ctx, owner, id, k.now().UTC()); err != nil {
			return err
		}
		return k.opts.Audit.Record(ctx, keyEntry(ctx, ActionKeyRevoked, id, owner, nil))
	})
	if errors.Is(err, ErrNoSession) {
		return ErrAPIKeyNotFound
	}
	if err != nil {
		return fmt.Errorf("revoke api key: %w", err)
	}
	return nil
}

// Recognizes implements authn.KeyVerifier.
func (k *APIKeys) Recognizes(token string) bool { return k.opts.Format.Recognizes(token) }

// VerifyAPIKey implements authn.KeyVerifier. A key whose shape or
// checksum is wrong is refused without touching the database. A
// well-formed key that is unknown, revoked or expired counts as a failed
// attempt of the client address, like a wrong password: over the limit
// the answer is 429. A valid key does not touch the counters, so the
// success path is one indexed lookup.
func (k *APIKeys) VerifyAPIKey(ctx context.Context, token string) (authn.KeyClaims, error) {
	if !k.opts.Format.Check(token) {
		return authn.KeyClaims{}, authn.ErrInvalidToken
	}
	now := k.now().UTC()
	key, err := k.store.APIKeyByHash(ctx, hashKey(token))
	switch {
	case errors.Is(err, ErrNoSession):
	case err != nil:
		return authn.KeyClaims{}, fmt.Errorf("verify api key: %w", err)
	case key.RevokedAt == nil && now.Before(key.ExpiresAt):
		if key.LastUsedAt == nil || now.Sub(*key.LastUsedAt) >= k.opts.TouchEvery {
			// Coarse on purpose: at most one write per key per TouchEvery;
			// a failure to record use must not refuse the request.
			_ = k.store.TouchAPIKey(ctx, key.ID, now, now.Add(-k.opts.TouchEvery))
		}
		return authn.KeyClaims{KeyID: key.ID, Owner: key.UserID, Permissions: authz.Of(key.Permissions...)}, nil
	}
	if _, err := k.limiter.Reserve(ctx, k.opts.FailureRule.Key(throttle.Address(httpserver.ClientIP(ctx)))); err != nil {
		return authn.KeyClaims{}, err
	}
	return authn.KeyClaims{}, authn.ErrInvalidToken
}

// keyEntry is the audit entry of a change to an API key: its target is
// the key, the payload names its owner and never holds the secret or its
// hash (the hint is the key's first characters, shown in listings).
func keyEntry(ctx context.Context, action string, id, owner uuid.UUID, p audit.Payload) audit.Entry {
	if p == nil {
		p = audit.Payload{}
	}
	p["owner_id"] = owner.String()
	return audit.Entry{Actor: actor(ctx), Action: action, Target: audit.Target{Type: targetKey, ID: id.String()}, Payload: p}
}
