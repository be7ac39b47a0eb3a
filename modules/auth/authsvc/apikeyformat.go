package authsvc

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"hash/crc32"
	"regexp"
	"strings"
)

// An API key reads <prefix><kind>_<random><checksum>, like GitHub's
// tokens: 30 random base62 characters (178 bits, from crypto/rand) and 6
// base62 characters of the CRC32 of everything before them. The prefix
// makes a leaked key recognisable to a secret scanner, and the checksum
// lets the scanner (and this server, before any database lookup) tell a
// candidate from random text offline.
const (
	keyRandomLen   = 30
	keyChecksumLen = 6
	// KindPersonal marks a key a user made for themself.
	KindPersonal = "p"
	// KindService marks a service account's key.
	KindService = "s"
	// keyHintRandom is how much of a key lists show beyond the prefix: 4
	// random characters, far too little to guess the rest from.
	keyHintRandom = 4
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// prefixPattern is what API_KEY_PREFIX may be: short, lower-case, so a
// scanner's pattern stays simple and no JWT (which starts "eyJ") matches.
var prefixPattern = regexp.MustCompile(`^[a-z][a-z0-9]{1,11}$`)

// ValidKeyPrefix reports whether p may prefix API keys.
func ValidKeyPrefix(p string) bool { return prefixPattern.MatchString(p) }

// KeyFormat is the shape of this server's API keys.
type KeyFormat struct {
	Prefix string
}

// head is what a key of kind starts with: "mkp_".
func (f KeyFormat) head(kind string) string { return f.Prefix + kind + "_" }

// Recognizes reports whether token claims to be one of our keys; it may
// still be forged (Check).
func (f KeyFormat) Recognizes(token string) bool {
	return strings.HasPrefix(token, f.head(KindPersonal)) || strings.HasPrefix(token, f.head(KindService))
}

// New returns a fresh key of kind.
func (f KeyFormat) New(kind string) string {
	var b strings.Builder
	b.WriteString(f.head(kind))
	// Rejection sampling: bytes >= 248 are dropped so every base62
	// character is equally likely (248 = 4 × 62).
	buf := make([]byte, 64)
	for b.Len() < len(f.head(kind))+keyRandomLen {
		_, _ = rand.Read(buf)
		for _, c := range buf {
			if c < 248 && b.Len() < len(f.head(kind))+keyRandomLen {
				b.WriteByte(base62[c%62])
			}
		}
	}
	body := b.String()
	return body + checksum(body)
}

// Check reports whether token has the exact shape of a key of ours:
// prefix, length, alphabet and checksum. It does no I/O, so a forged,
// truncated or mistyped key costs no database query.
func (f KeyFormat) Check(token string) bool {
	head := f.head(KindPersonal)
	if strings.HasPrefix(token, f.head(KindService)) {
		head = f.head(KindService)
	}
	if len(token) != len(head)+keyRandomLen+keyChecksumLen || !strings.HasPrefix(token, head) {
		return false
	}
	for i := len(head); i < len(token); i++ {
		if strings.IndexByte(base62, token[i]) < 0 {
			return false
		}
	}
	body := token[:len(token)-keyChecksumLen]
	return checksum(body) == token[len(body):]
}

// Hint is the part of a key that lists show.
func (f KeyFormat) Hint(token string) string {
	n := min(len(f.head(KindPersonal))+keyHintRandom, len(token))
	return token[:n]
}

// checksum is the CRC32 (IEEE) of body in base62, left-padded with '0' to
// six characters (62^6 > 2^32).
func checksum(body string) string {
	n := crc32.ChecksumIEEE([]byte(body))
	out := make([]byte, keyChecksumLen)
	for i := keyChecksumLen - 1; i >= 0; i-- {
		out[i] = base62[n%62]
		n /= 62
	}
	return string(out)
}

// hashKey is how a key is stored and looked up. SHA-256 is enough, and
// no password hash is needed: the key is 178 random bits, so there is no
// dictionary to guess from, and a fast hash keeps the per-request lookup
// cheap.
func hashKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
