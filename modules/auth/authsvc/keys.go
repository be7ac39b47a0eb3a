package authsvc

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
)

// rsaBits is the modulus size of generated keys. RS256 over RSA-2048 is the
// cheapest asymmetric verification measured here (see docs/security.md).
const rsaBits = 2048

// KeySource says where the signing key comes from.
type KeySource struct {
	PEM      string // the key itself (production: from a Secret)
	File     string // a path; generated if missing when Generate is set
	Generate bool   // development only
}

// SigningKey is an RSA private key with its key id.
type SigningKey struct {
	Private *rsa.PrivateKey
	KID     string
}

// LoadSigningKey reads (or, in development, creates) the signing key.
func LoadSigningKey(src KeySource) (*SigningKey, error) {
	data := []byte(src.PEM)
	if len(data) == 0 {
		if src.File == "" {
			return nil, errors.New("no signing key: set JWT_PRIVATE_KEY or JWT_PRIVATE_KEY_FILE")
		}
		b, err := os.ReadFile(src.File)
		switch {
		case err == nil:
			data = b
		case errors.Is(err, os.ErrNotExist) && src.Generate:
			if data, err = generateKeyFile(src.File); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("read JWT_PRIVATE_KEY_FILE: %w", err)
		}
	}
	key, err := parsePrivateKey(data)
	if err != nil {
		return nil, err
	}
	if key.N.BitLen() < 2048 {
		return nil, fmt.Errorf("signing key: RSA keys under 2048 bits are refused (got %d)", key.N.BitLen())
	}
	return &SigningKey{Private: key, KID: thumbprint(&key.PublicKey)}, nil
}

func parsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("signing key: no PEM block found")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("signing key: want an RSA key, got %T", k)
	}
	return rk, nil
}

// generateKeyFile creates a development key readable only by its owner.
func generateKeyFile(path string) ([]byte, error) {
	key, err := rsa.GenerateKey(rand.Reader, rsaBits)
	if err != nil {
		return nil, fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	data := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create key directory: %w", err)
	}
	// The path is the operator's JWT_PRIVATE_KEY_FILE setting.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) //nolint:gosec // operator-chosen path
	if errors.Is(err, os.ErrExist) {                                      // another process created it first
		return os.ReadFile(path) //nolint:gosec // operator-chosen path
	}
	if err != nil {
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("write signing key: %w", err)
	}
	return data, f.Close()
}

// thumbprint is the RFC 7638 JWK thumbprint: a key id derived from the key
// itself, identical on every replica that holds the same key.
func thumbprint(pub *rsa.PublicKey) string {
	b64 := base64.RawURLEncoding
	e := b64.EncodeToString(big.NewInt(int64(pub.E)).Bytes())
	n := b64.EncodeToString(pub.N.Bytes())
	sum := sha256.Sum256([]byte(`{"e":"` + e + `","kty":"RSA","n":"` + n + `"}`))
	return b64.EncodeToString(sum[:])
}
