package seal_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/acme/monolith/platform/seal"
)

func TestSealOpensOnlyWithItsKeyAndData(t *testing.T) {
	key, other := bytes.Repeat([]byte{7}, 32), bytes.Repeat([]byte{9}, 32)
	b, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte("Zoë 日本 🚀 secret")
	s := b.Seal(plain, []byte("row-1"))
	if bytes.Contains(s, plain) {
		t.Fatal("the sealed value holds the plaintext")
	}
	if got, err := b.Open(s, []byte("row-1")); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open: %q %v", got, err)
	}
	if bytes.Equal(b.Seal(plain, []byte("row-1")), s) {
		t.Fatal("two seals of one value are equal: the nonce repeats")
	}
	ob, _ := seal.New(other)
	for name, open := range map[string]func() ([]byte, error){
		"another row": func() ([]byte, error) { return b.Open(s, []byte("row-2")) },
		"another key": func() ([]byte, error) { return ob.Open(s, []byte("row-1")) },
		"truncated":   func() ([]byte, error) { return b.Open(s[:10], []byte("row-1")) },
		"tampered":    func() ([]byte, error) { t := bytes.Clone(s); t[len(t)-1] ^= 1; return b.Open(t, []byte("row-1")) },
	} {
		if _, err := open(); !errors.Is(err, seal.ErrDoesNotOpen) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := seal.New([]byte("short")); err == nil {
		t.Error("a 5-byte key was accepted")
	}
}
