package password

import (
	"context"
	"strings"
	"testing"

	"github.com/acme/monolith/platform/config"
)

func hasher(t *testing.T) *Hasher {
	t.Helper()
	h, err := NewHasher(config.Password{MemoryKiB: 1024, Iterations: 1, Parallelism: 1, Concurrency: 2})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHashVerify(t *testing.T) {
	h := hasher(t)
	ctx := context.Background()
	enc, err := h.Hash(ctx, "correct horse battery staple")
	if err != nil || !strings.HasPrefix(enc, "$argon2id$v=19$m=1024,t=1,p=1$") {
		t.Fatalf("hash = %q, %v", enc, err)
	}
	if ok, err := h.Verify(ctx, enc, "correct horse battery staple"); !ok || err != nil {
		t.Fatalf("right password: %v %v", ok, err)
	}
	// No truncation and no normalisation: one character more, or another
	// Unicode form of the same text, is a different password.
	for _, wrong := range []string{"correct horse battery staplE", "correct horse battery staple ", "Correct horse battery staple"} {
		if ok, _ := h.Verify(ctx, enc, wrong); ok {
			t.Fatalf("%q accepted", wrong)
		}
	}
	nfc, _ := h.Hash(ctx, "caf\u00e9 au lait!")
	if ok, _ := h.Verify(ctx, nfc, "cafe\u0301 au lait!"); ok {
		t.Fatal("a password was normalised")
	}
}

func TestDummyHashIsWellFormedAndMatchesNothing(t *testing.T) {
	h := hasher(t)
	if ok, err := h.Verify(context.Background(), h.dummy, ""); ok || err != nil {
		t.Fatalf("dummy verify: ok=%v err=%v (it must parse and never match)", ok, err)
	}
	if h.NeedsRehash(h.dummy) {
		t.Fatal("dummy hash has other parameters than real hashes: timing would differ")
	}
}

func TestNeedsRehashWhenParametersChange(t *testing.T) {
	h := hasher(t)
	enc, _ := h.Hash(context.Background(), "some passphrase")
	stronger, _ := NewHasher(config.Password{MemoryKiB: 2048, Iterations: 2, Parallelism: 1, Concurrency: 1})
	if h.NeedsRehash(enc) || !stronger.NeedsRehash(enc) {
		t.Fatal("NeedsRehash does not follow the parameters")
	}
	if ok, _ := stronger.Verify(context.Background(), enc, "some passphrase"); !ok {
		t.Fatal("a hash made with older parameters no longer verifies")
	}
}

func TestMalformedHashes(t *testing.T) {
	h := hasher(t)
	for _, enc := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=18$m=1,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=0,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=1,t=1,p=1$!!$aGFzaA"} {
		if _, err := h.Verify(context.Background(), enc, "x"); err == nil {
			t.Errorf("%q parsed", enc)
		}
	}
}

func TestPolicy(t *testing.T) {
	cases := map[string]string{"1234567": "password_too_short", strings.Repeat("é", 129): "password_too_long", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8": "password_invalid"}
	for pw, code := range cases {
		if err := Check("password", pw); err == nil || err.Code != code || err.Field != "password" {
			t.Errorf("Check(%q) = %v, want %s", pw, err, code)
		}
	}
	// Length is counted in characters: 128 two-byte characters are fine.
	if err := Check("password", strings.Repeat("é", 128)); err != nil {
		t.Fatalf("128 characters refused: %v", err)
	}
}

func TestConcurrencyIsCapped(t *testing.T) {
	h := hasher(t)
	h.slots <- struct{}{}
	h.slots <- struct{}{} // both slots taken
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "waits for a slot"); err == nil {
		t.Fatal("hashing ran beyond the concurrency cap")
	}
	<-h.slots
	if _, err := h.Hash(context.Background(), "now there is a slot"); err != nil {
		t.Fatal(err)
	}
}
