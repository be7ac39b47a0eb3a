package authsvc

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// sealer encrypts what the auth module stores secret (signing keys, TOTP
// secrets) with AES-256-GCM under the key-encryption key. The associated
// data names the row, so a sealed value copied onto another row does not
// open. The output is the nonce followed by the ciphertext.
type sealer struct{ aead cipher.AEAD }

func newSealer(kek []byte) (sealer, error) {
	block, err := aes.NewCipher(kek)
	if err != nil {
		return sealer{}, fmt.Errorf("key-encryption key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return sealer{}, err
	}
	return sealer{aead: aead}, nil
}

func (s sealer) seal(plain []byte, ad string) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plain, []byte(ad))
}

func (s sealer) open(sealed []byte, ad string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n {
		return nil, errors.New("sealed value too short")
	}
	return s.aead.Open(nil, sealed[:n], sealed[n:], []byte(ad))
}
