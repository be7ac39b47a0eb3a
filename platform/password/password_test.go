package password

import (
	"context"
	"testing"

	"github.com/acme/monolith/platform/config"
)

// TestDummyCostsOneRealCheck: the dummy hash built at start parses with
// the configured parameters (so verifying against it does the same
// argon2id work as a real account) and matches no password.
func TestDummyCostsOneRealCheck(t *testing.T) {
	h, err := NewHasher(config.Password{MemoryKiB: 64, Iterations: 1, Parallelism: 1, Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	p, salt, key, err := decode(h.dummy)
	if err != nil || p != h.p || len(salt) != 16 || len(key) != 32 {
		t.Fatalf("dummy %q: params %+v salt %d key %d err %v", h.dummy, p, len(salt), len(key), err)
	}
	if h.NeedsRehash(h.dummy) {
		t.Fatal("dummy does not use the configured parameters")
	}
	ok, err := h.Verify(context.Background(), h.dummy, "")
	if ok || err != nil {
		t.Fatalf("dummy verified: %v %v", ok, err)
	}
	// Control: a real hash of the same hasher verifies.
	real, err := h.Hash(context.Background(), "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := h.Verify(context.Background(), real, "correct horse"); !ok || err != nil {
		t.Fatalf("real hash: %v %v", ok, err)
	}
}
