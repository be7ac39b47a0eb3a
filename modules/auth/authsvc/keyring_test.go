package authsvc

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

// memKeys is a key set in memory whose Keys can be held mid-read, to
// interleave a reload with a removal.
type memKeys struct {
	mu   sync.Mutex
	rows []StoredKey
	hold chan chan struct{} // Keys reports on it after reading, then waits
}

func (m *memKeys) Keys(context.Context) ([]StoredKey, error) {
	m.mu.Lock()
	rows := append([]StoredKey(nil), m.rows...)
	hold := m.hold
	m.mu.Unlock()
	if hold != nil {
		release := make(chan struct{})
		hold <- release
		<-release
	}
	return rows, nil
}

func (m *memKeys) EnsureCurrent(_ context.Context, k StoredKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.rows) == 0 {
		m.rows = append(m.rows, k)
	}
	return nil
}

func (m *memKeys) RotateKeys(context.Context, StoredKey, time.Time, time.Time) (string, error) {
	return "", nil
}

func (m *memKeys) RemoveKey(_ context.Context, kid string, _ *StoredKey, _ time.Time) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, r := range m.rows {
		if r.KID == kid {
			m.rows = append(m.rows[:i], m.rows[i+1:]...)
			return "", nil
		}
	}
	return "", ErrKeyNotFound
}

// TestForgetWinsOverAReloadInFlight: a reload that read the key set just
// before a removal was announced must not bring the removed key back when
// it finishes after the announcement (the replica would trust the key until
// its next periodic reload); the reload that follows the announcement
// stores the set without it, and the remaining key keeps signing.
func TestForgetWinsOverAReloadInFlight(t *testing.T) {
	store := &memKeys{}
	ring, err := NewKeyRing(store, make([]byte, 32), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	current, retired := newKey(t), newKey(t)
	ctx := context.Background()
	if err := ring.Bootstrap(ctx, current); err != nil {
		t.Fatal(err)
	}
	old, err := ring.seal(retired, KeyRetired)
	if err != nil {
		t.Fatal(err)
	}
	until := time.Now().Add(time.Hour)
	old.VerifyUntil = &until
	store.mu.Lock()
	store.rows = append(store.rows, old)
	store.hold = make(chan chan struct{})
	store.mu.Unlock()

	done := make(chan error, 1)
	go func() { done <- ring.Reload(ctx) }()
	release := <-store.hold // the reload has read both keys
	store.mu.Lock()
	store.hold = nil
	store.mu.Unlock()
	if _, err := store.RemoveKey(ctx, retired.KID, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	ring.Forget(retired.KID) // the announcement arrives ...
	close(release)           // ... before the old reload stores what it read
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, ok := ring.VerificationKey(ctx, retired.KID); ok {
		t.Fatal("the reload in flight brought the removed key back")
	}
	if err := ring.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := ring.VerificationKey(ctx, retired.KID); ok {
		t.Fatal("removed key trusted after the reload")
	}
	k, err := ring.SigningKey(ctx)
	if err != nil || k.KID != current.KID {
		t.Fatalf("signing key %v (%v), want %s", k, err, current.KID)
	}
	for _, j := range ring.JWKS(ctx) {
		if j.KID == retired.KID {
			t.Fatal("the removed key is still published")
		}
	}
}

// TestForgetTheSigningKey: when the key being removed is the one this
// replica signs with, the next signature reloads the set first and uses
// the successor, never the removed key.
func TestForgetTheSigningKey(t *testing.T) {
	store := &memKeys{}
	ring, err := NewKeyRing(store, make([]byte, 32), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	first, second := newKey(t), newKey(t)
	ctx := context.Background()
	if err := ring.Bootstrap(ctx, first); err != nil {
		t.Fatal(err)
	}
	succ, err := ring.seal(second, KeyCurrent)
	if err != nil {
		t.Fatal(err)
	}
	store.mu.Lock()
	store.rows = []StoredKey{succ}
	store.mu.Unlock()
	ring.Forget(first.KID)
	k, err := ring.SigningKey(ctx)
	if err != nil || k.KID != second.KID {
		t.Fatalf("signing with %v (%v), want the successor %s", k, err, second.KID)
	}
}

func newKey(t *testing.T) *SigningKey {
	t.Helper()
	k, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// rotatingKeys records the rotation and removal the ring asks for.
type rotatingKeys struct {
	memKeys
	rotated          StoredKey
	now, verifyUntil time.Time
	replacement      *StoredKey
	removals         int
}

func (k *rotatingKeys) RotateKeys(_ context.Context, next StoredKey, now, verifyUntil time.Time) (string, error) {
	k.rotated, k.now, k.verifyUntil = next, now, verifyUntil
	return "", nil
}

func (k *rotatingKeys) RemoveKey(ctx context.Context, kid string, replacement *StoredKey, now time.Time) (string, error) {
	k.removals++
	k.replacement = replacement
	return k.memKeys.RemoveKey(ctx, kid, replacement, now)
}

// TestRotationKeepsTheRetiredKeyForEveryToken: a rotation publishes a new
// key as next (sealed: it signs nothing yet), and the key it retires keeps
// verifying until every token it signed has expired on every replica: a
// replica may sign with it until its next reload, then the token lives its
// lifetime, plus the clock-skew leeway.
func TestRotationKeepsTheRetiredKeyForEveryToken(t *testing.T) {
	const refresh, tokenTTL = 5 * time.Minute, 15 * time.Minute
	store := &rotatingKeys{}
	ring, err := NewKeyRing(store, make([]byte, 32), refresh)
	if err != nil {
		t.Fatal(err)
	}
	if err := ring.Bootstrap(t.Context(), newKey(t)); err != nil {
		t.Fatal(err)
	}
	_, published, err := ring.Rotate(t.Context(), tokenTTL)
	if err != nil {
		t.Fatal(err)
	}
	if store.rotated.KID != published || store.rotated.State != KeyNext || len(store.rotated.Sealed) == 0 {
		t.Fatalf("published %q as %+v", published, store.rotated)
	}
	if got := store.verifyUntil.Sub(store.now); got != refresh+tokenTTL+leeway {
		t.Fatalf("retired key verifies for %v, want %v", got, refresh+tokenTTL+leeway)
	}
}

// TestRemovingTheOnlyCurrentKeyNeedsForce: without force the store is
// asked to remove without a replacement (it refuses the only current key);
// with force it gets a sealed current key to sign with instead. A kid
// that is not one of ours never reaches the store.
func TestRemovingTheOnlyCurrentKeyNeedsForce(t *testing.T) {
	store := &rotatingKeys{}
	ring, err := NewKeyRing(store, make([]byte, 32), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ring.Remove(t.Context(), "../../etc", true); !errors.Is(err, ErrKeyNotFound) || store.removals != 0 {
		t.Fatalf("malformed kid: %v (%d store calls)", err, store.removals)
	}
	kid := newKey(t).KID
	_, _ = ring.Remove(t.Context(), kid, false)
	if store.removals != 1 || store.replacement != nil {
		t.Fatalf("without force: %d calls, replacement %v", store.removals, store.replacement)
	}
	_, _ = ring.Remove(t.Context(), kid, true)
	if r := store.replacement; r == nil || r.State != KeyCurrent || len(r.Sealed) == 0 || r.KID == kid {
		t.Fatalf("with force: replacement %+v", r)
	}
}
