package authsvc

import (
	"context"
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
