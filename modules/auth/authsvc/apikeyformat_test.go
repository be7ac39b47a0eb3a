package authsvc_test

import (
	"hash/crc32"
	"strings"
	"testing"

	"github.com/acme/monolith/modules/auth/authsvc"
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// TestKeyFormat: a new key has the prefix, 30 random base62 characters
// and the base62 CRC32 of the rest; Check accepts it and refuses every
// single-character change, truncation, extension and the other kind's or
// another server's prefix.
func TestKeyFormat(t *testing.T) {
	f := authsvc.KeyFormat{Prefix: "mk"}
	seen := map[string]bool{}
	for range 200 {
		k := f.New(authsvc.KindPersonal)
		if seen[k] {
			t.Fatalf("repeated key %s", k)
		}
		seen[k] = true
		if !strings.HasPrefix(k, "mkp_") || len(k) != 4+30+6 || !f.Check(k) || !f.Recognizes(k) {
			t.Fatalf("key %q", k)
		}
		n := crc32.ChecksumIEEE([]byte(k[:34]))
		var sum []byte
		for range 6 {
			sum = append([]byte{base62[n%62]}, sum...)
			n /= 62
		}
		if string(sum) != k[34:] {
			t.Fatalf("checksum of %s = %s, want %s", k, k[34:], sum)
		}
	}
	k := f.New(authsvc.KindPersonal)
	for i := 4; i < len(k); i++ {
		b := []byte(k)
		b[i] = base62[(strings.IndexByte(base62, b[i])+1)%62]
		if f.Check(string(b)) {
			t.Fatalf("changed at %d, still accepted: %s", i, b)
		}
	}
	for _, bad := range []string{k[:len(k)-1], k + "0", "mks_" + k[4:], "xx" + k[2:], "", "mkp_", k[:10] + "é" + k[12:]} {
		if f.Check(bad) {
			t.Fatalf("accepted %q", bad)
		}
	}
	if (authsvc.KeyFormat{Prefix: "other"}).Check(k) || f.Hint(k) != k[:8] {
		t.Fatal("another prefix accepted, or the hint is not the first 8 characters")
	}
}

// TestKeyRandomPartIsUniform: over 3000 keys every base62 character
// appears within 15% of its expected count (about 6 standard
// deviations). Taking a random byte modulo 62 would give the first 8
// characters 21% more than their share, and fail.
func TestKeyRandomPartIsUniform(t *testing.T) {
	f := authsvc.KeyFormat{Prefix: "mk"}
	counts := map[byte]int{}
	const keys = 3000
	for range keys {
		k := f.New(authsvc.KindPersonal)
		for i := 4; i < 34; i++ {
			counts[k[i]]++
		}
	}
	want := float64(keys*30) / 62
	for c, n := range counts {
		if float64(n) < 0.85*want || float64(n) > 1.15*want {
			t.Fatalf("%q appears %d times, want about %.0f", c, n, want)
		}
	}
	if len(counts) != 62 {
		t.Fatalf("%d distinct characters, want 62", len(counts))
	}
}

func TestValidKeyPrefix(t *testing.T) {
	for p, ok := range map[string]bool{"mk": true, "acme1": true, "m": false, "MK": false, "1a": false, "a_b": false, "abcdefghijklm": false, "eyJ": false} {
		if authsvc.ValidKeyPrefix(p) != ok {
			t.Errorf("ValidKeyPrefix(%q) = %v", p, !ok)
		}
	}
}
