package authsvc

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/acme/monolith/platform/seal"
)

// Key states: a key is published as next before it signs, signs while
// current, and verifies while retired until every token it signed expired.
const (
	KeyNext    = "next"
	KeyCurrent = "current"
	KeyRetired = "retired"
)

// StoredKey is a key-set row; Sealed is the PKCS#8 private key encrypted
// with AES-256-GCM under the key-encryption key, the kid as associated data.
type StoredKey struct {
	KID         string
	Alg         string
	State       string
	Sealed      []byte
	CreatedAt   time.Time
	ActivatedAt *time.Time
	VerifyUntil *time.Time
}

// KeyStore persists the key set.
type KeyStore interface {
	Keys(ctx context.Context) ([]StoredKey, error)
	// EnsureCurrent stores k as the current key unless one exists.
	EnsureCurrent(ctx context.Context, k StoredKey) error
	// RotateKeys, in one transaction: the next key (if any) becomes
	// current, the current one retires (verifying until verifyUntil),
	// expired retired keys are deleted and k is added as the new next key.
	RotateKeys(ctx context.Context, k StoredKey, now, verifyUntil time.Time) (promoted string, err error)
	// RemoveKey deletes kid and announces it to every replica, in one
	// transaction. Removing the only current key needs replacement (else
	// ErrOnlyCurrentKey): the newest next key then signs, or replacement
	// when none is published; promoted names the key that signs now.
	RemoveKey(ctx context.Context, kid string, replacement *StoredKey, now time.Time) (promoted string, err error)
}

// Errors of key removal.
var (
	ErrKeyNotFound    = errors.New("no signing key with this kid")
	ErrOnlyCurrentKey = errors.New("the key is the only current signing key")
)

// JWK is a public key as published at /.well-known/jwks.json (RFC 7517).
type JWK struct {
	KTY string `json:"kty"`
	KID string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// KeyRing is the key set of this replica, loaded from the database and
// reloaded every refresh interval, and at once (at most every few seconds)
// when a token names a kid it does not know: a key rotated in by another
// replica is then trusted without waiting.
type KeyRing struct {
	store   KeyStore
	sealer  seal.Box
	refresh time.Duration
	now     func() time.Time

	loading  sync.Mutex // one reload at a time; others keep the current set
	mu       sync.RWMutex
	signing  *SigningKey
	verify   map[string]*rsa.PublicKey
	jwks     []JWK
	loadedAt time.Time
	missAt   time.Time
	// gen counts removals heard of (Forget): a load that read the set
	// before one must not store it, since it may still hold the key.
	gen uint64
}

// missInterval bounds reloads caused by unknown kids, so forged kids cannot
// turn into a query per request.
const missInterval = 5 * time.Second

// NewKeyRing returns an empty ring; Bootstrap loads it.
func NewKeyRing(store KeyStore, kek []byte, refresh time.Duration) (*KeyRing, error) {
	sl, err := seal.New(kek)
	if err != nil {
		return nil, fmt.Errorf("key-encryption key: %w", err)
	}
	return &KeyRing{store: store, sealer: sl, refresh: refresh, now: time.Now}, nil
}

// Bootstrap makes sure a current key exists (initial, typically the key
// from JWT_PRIVATE_KEY, sealed into the database), then loads the set.
func (r *KeyRing) Bootstrap(ctx context.Context, initial *SigningKey) error {
	k, err := r.seal(initial, KeyCurrent)
	if err != nil {
		return err
	}
	if err := r.store.EnsureCurrent(ctx, k); err != nil {
		return fmt.Errorf("store initial signing key: %w", err)
	}
	return r.load(ctx)
}

// Rotate runs one step of the rotation pipeline: the key published by the
// previous step starts signing, the current one retires (it verifies until
// the tokens it signed have expired on every replica), and a new key is
// published for the next step. tokenTTL is the access-token lifetime.
func (r *KeyRing) Rotate(ctx context.Context, tokenTTL time.Duration) (promoted, published string, err error) {
	next, err := GenerateKey()
	if err != nil {
		return "", "", err
	}
	k, err := r.seal(next, KeyNext)
	if err != nil {
		return "", "", err
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	// A replica may keep signing with the old key until its next reload.
	until := now.Add(r.refresh + tokenTTL + leeway)
	promoted, err = r.store.RotateKeys(ctx, k, now, until)
	if err != nil {
		return "", "", fmt.Errorf("rotate keys: %w", err)
	}
	return promoted, next.KID, r.load(ctx)
}

// Remove deletes kid from the key set and, through the store's
// announcement, from every replica's at once (see Forget). The only
// current key is removed only with force: then the published next key
// signs from now on, or a new key when none is published (it is trusted
// everywhere at once: the announcement reloads every replica's set, and a
// token with an unknown kid reloads it too).
func (r *KeyRing) Remove(ctx context.Context, kid string, force bool) (promoted string, err error) {
	if !isKID(kid) {
		return "", ErrKeyNotFound
	}
	var replacement *StoredKey
	if force {
		k, err := GenerateKey()
		if err != nil {
			return "", err
		}
		sealed, err := r.seal(k, KeyCurrent)
		if err != nil {
			return "", err
		}
		replacement = &sealed
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	if promoted, err = r.store.RemoveKey(ctx, kid, replacement, now); err != nil {
		return "", fmt.Errorf("remove signing key: %w", err)
	}
	r.Forget(kid)
	return promoted, r.Reload(ctx)
}

// Forget drops kid from this replica's set at once, without a query: the
// key was removed (by `app keys remove`, announced to every replica). A
// reload still in flight, which may have read the set before the removal,
// is discarded; call Reload to load the set as it now is. Until then a
// removed signing key signs nothing (SigningKey reloads first).
func (r *KeyRing) Forget(kid string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gen++
	delete(r.verify, kid)
	r.jwks = slices.DeleteFunc(slices.Clone(r.jwks), func(j JWK) bool { return j.KID == kid })
	if r.signing != nil && r.signing.KID == kid {
		r.signing = nil
	}
}

// Reload loads the key set now.
func (r *KeyRing) Reload(ctx context.Context) error {
	r.loading.Lock()
	defer r.loading.Unlock()
	return r.load(ctx)
}

// isKID reports whether s has the shape of our kids, RFC 7638 SHA-256
// thumbprints in unpadded base64url: anything else names no key (and never
// reaches the database, which may refuse bytes such as NUL).
func isKID(s string) bool {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	return len(s) == 43 && !strings.ContainsFunc(s, func(c rune) bool { return !strings.ContainsRune(alphabet, c) })
}

func (r *KeyRing) seal(k *SigningKey, state string) (StoredKey, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.Private)
	if err != nil {
		return StoredKey{}, err
	}
	return StoredKey{KID: k.KID, Alg: Algorithm, State: state, Sealed: r.sealer.Seal(der, []byte(k.KID))}, nil
}

func (r *KeyRing) open(k StoredKey) (*SigningKey, error) {
	der, err := r.sealer.Open(k.Sealed, []byte(k.KID))
	if err != nil {
		return nil, fmt.Errorf("unseal signing key %s (wrong JWT_KEY_ENCRYPTION_KEY?): %w", k.KID, err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	rk, ok := priv.(*rsa.PrivateKey)
	if !ok || thumbprint(&rk.PublicKey) != k.KID {
		return nil, fmt.Errorf("signing key %s does not match its kid", k.KID)
	}
	return &SigningKey{Private: rk, KID: k.KID}, nil
}

func (r *KeyRing) load(ctx context.Context) error {
	r.mu.RLock()
	gen := r.gen
	r.mu.RUnlock()
	rows, err := r.store.Keys(ctx)
	if err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	now := r.now()
	var signing *SigningKey
	var signingAt time.Time
	verify := map[string]*rsa.PublicKey{}
	var jwks []JWK
	for _, row := range rows {
		if row.State == KeyRetired && row.VerifyUntil != nil && now.After(*row.VerifyUntil) {
			continue
		}
		k, err := r.open(row)
		if err != nil {
			return err
		}
		verify[k.KID] = &k.Private.PublicKey
		jwks = append(jwks, publicJWK(k))
		// Two replicas bootstrapping at once may both store a current key:
		// all verify, the most recently activated signs.
		if row.State == KeyCurrent {
			at := row.CreatedAt
			if row.ActivatedAt != nil {
				at = *row.ActivatedAt
			}
			if signing == nil || at.After(signingAt) || (at.Equal(signingAt) && k.KID > signing.KID) {
				signing, signingAt = k, at
			}
		}
	}
	if signing == nil {
		return errors.New("the key set has no current signing key")
	}
	slices.SortFunc(jwks, func(a, b JWK) int {
		switch {
		case a.KID < b.KID:
			return -1
		case a.KID > b.KID:
			return 1
		}
		return 0
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gen != gen {
		// A removal was heard while reading: what was read may hold the
		// removed key. The reload that follows the removal stores the set.
		return nil
	}
	r.signing, r.verify, r.jwks, r.loadedAt = signing, verify, jwks, now
	return nil
}

func (r *KeyRing) fresh(ctx context.Context) {
	r.mu.RLock()
	stale := r.now().Sub(r.loadedAt) > r.refresh
	r.mu.RUnlock()
	if stale && r.loading.TryLock() {
		defer r.loading.Unlock()
		// A failed reload keeps the previous set: better than failing
		// every request while the database blips.
		_ = r.load(ctx)
	}
}

// SigningKey implements KeySet.
func (r *KeyRing) SigningKey(ctx context.Context) (*SigningKey, error) {
	r.fresh(ctx)
	r.mu.RLock()
	k := r.signing
	r.mu.RUnlock()
	if k == nil {
		// The signing key was removed (Forget): load its successor.
		if err := r.Reload(ctx); err != nil {
			return nil, err
		}
		r.mu.RLock()
		k = r.signing
		r.mu.RUnlock()
	}
	if k == nil {
		return nil, errors.New("signing keys not loaded")
	}
	return k, nil
}

// VerificationKey implements KeySet.
func (r *KeyRing) VerificationKey(ctx context.Context, kid string) (*rsa.PublicKey, bool) {
	r.fresh(ctx)
	r.mu.RLock()
	k, ok := r.verify[kid]
	miss := !ok && r.now().Sub(r.missAt) > missInterval
	r.mu.RUnlock()
	if !miss || len(kid) != 43 {
		return k, ok
	}
	r.mu.Lock()
	r.missAt = r.now()
	r.mu.Unlock()
	if r.load(ctx) != nil {
		return nil, false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	k, ok = r.verify[kid]
	return k, ok
}

// JWKS returns the published public keys (next, current and retired).
func (r *KeyRing) JWKS(ctx context.Context) []JWK {
	r.fresh(ctx)
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Clone(r.jwks)
}

func publicJWK(k *SigningKey) JWK {
	b64 := base64.RawURLEncoding
	pub := k.Private.PublicKey
	return JWK{
		KTY: "RSA", KID: k.KID, Alg: Algorithm, Use: "sig",
		N: b64.EncodeToString(pub.N.Bytes()), E: b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}
}

// StaticKeys is a key set of one fixed key (unit tests and benchmarks).
type StaticKeys struct{ Key *SigningKey }

// SigningKey implements KeySet.
func (s StaticKeys) SigningKey(context.Context) (*SigningKey, error) { return s.Key, nil }

// VerificationKey implements KeySet.
func (s StaticKeys) VerificationKey(_ context.Context, kid string) (*rsa.PublicKey, bool) {
	if kid != s.Key.KID {
		return nil, false
	}
	return &s.Key.Private.PublicKey, true
}
