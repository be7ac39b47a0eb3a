package config

import (
	"crypto/subtle"
	"errors"
	"net"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// minKEKDistinctBytes and the printable-ASCII rule below tell a random
// key from one a person made up. Of 32 uniformly random bytes, at most 16
// distinct values occur with probability 2.2e-15, and all 32 printable
// with probability 1.7e-14, so a real key is never refused; a passphrase
// or hex string passed through base64, all-zero or repeated bytes, and any
// block of up to 16 bytes repeated are.
const minKEKDistinctBytes = 17

// weakKEK says why a 32-byte key-encryption key cannot be a random secret,
// or returns "".
func weakKEK(b []byte) string {
	if subtle.ConstantTimeCompare(b, developmentKEK[:]) == 1 {
		return "is the built-in development key, which is public"
	}
	var seen [256]bool
	distinct, printable := 0, true
	for _, c := range b {
		if !seen[c] {
			seen[c] = true
			distinct++
		}
		printable = printable && c >= 0x20 && c <= 0x7e
	}
	switch {
	case distinct < minKEKDistinctBytes:
		return "has too few distinct bytes to be random (repeated bytes or a repeated pattern)"
	case printable:
		return "is printable text (a passphrase or hex string), not random bytes"
	}
	return ""
}

// securePublicURL reports whether raw is https, or names a loopback host
// (nobody else can follow a link to it, so http carries nothing across a
// network).
func securePublicURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	return u.Scheme == "https" || isLoopbackHost(u.Hostname())
}

// insecurePostgres says why a Postgres DATABASE_URL could reach a remote
// server without TLS, or returns "". It asks pgx itself, so that what is
// checked is what the driver will do: every host of a multi-host URL and
// the PG* environment (PGSSLMODE, PGHOST) count, and libpq's default
// sslmode=prefer falls back to plain text, so it is refused like disable
// and allow. Unix sockets and loopback hosts never leave the machine.
func insecurePostgres(raw string) string {
	if !strings.HasPrefix(raw, "postgres://") && !strings.HasPrefix(raw, "postgresql://") {
		return ""
	}
	pc, err := pgconn.ParseConfig(raw)
	if err != nil {
		msg := "is not a valid Postgres URL"
		// The inner error never holds the URL (which may hold a password).
		if inner := errors.Unwrap(err); inner != nil {
			msg += " (" + inner.Error() + ")"
		}
		return msg
	}
	type target struct {
		host  string
		plain bool // a connection attempt without TLS
	}
	targets := []target{{pc.Host, pc.TLSConfig == nil}}
	for _, fb := range pc.Fallbacks {
		targets = append(targets, target{fb.Host, fb.TLSConfig == nil})
	}
	for _, t := range targets {
		if t.plain && !strings.HasPrefix(t.host, "/") && !isLoopbackHost(t.host) {
			return "reaches " + t.host + " without requiring TLS: add sslmode=require (or verify-ca, verify-full) to the URL " +
				"(ASVS V12.3; libpq's default, prefer, falls back to plain text), " +
				"or set DATABASE_ALLOW_INSECURE_TRANSPORT=true if a sidecar or service mesh encrypts the connection"
		}
	}
	return ""
}

// isLoopbackHost reports whether host is localhost or a loopback address.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
