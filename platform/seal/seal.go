// Package seal encrypts what the application stores secret (signing
// keys, TOTP secrets, queued email) with AES-256-GCM. The associated data
// names what a value belongs to (a row, a job kind), so a sealed value
// copied elsewhere does not open. A sealed value is the nonce followed by
// the ciphertext.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// Box seals and opens values under one 32-byte key.
type Box struct{ aead cipher.AEAD }

// New returns the box of key (32 bytes: AES-256).
func New(key []byte) (Box, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return Box{}, fmt.Errorf("sealing key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return Box{}, fmt.Errorf("sealing key: %w", err)
	}
	return Box{aead: aead}, nil
}

// Seal encrypts plain, bound to ad.
func (b Box) Seal(plain, ad []byte) []byte {
	n := b.aead.NonceSize()
	nonce := make([]byte, n, n+len(plain)+b.aead.Overhead())
	_, _ = rand.Read(nonce) // never fails (crypto/rand)
	return b.aead.Seal(nonce, nonce, plain, ad)
}

// ErrDoesNotOpen is a value sealed under another key or other associated
// data, or damaged.
var ErrDoesNotOpen = errors.New("sealed value does not open")

// Open decrypts what Seal returned for the same ad.
func (b Box) Open(sealed, ad []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return nil, ErrDoesNotOpen
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, ErrDoesNotOpen
	}
	return plain, nil
}
