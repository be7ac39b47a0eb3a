package config_test

import (
	"crypto/rand"
	"encoding/base64"
	"maps"
	"strings"
	"testing"

	"github.com/acme/monolith/platform/config"
)

// prodBase is a production configuration that loads: every later case
// changes one thing in it.
func prodBase() map[string]string {
	return map[string]string{
		"APP_ENV":                "production",
		"DATABASE_URL":           "postgres://app:s3cr3t-Value@db.internal:5432/app?sslmode=require",
		"JWT_KEY_ENCRYPTION_KEY": "cXu2bG2Sxaf3sDH+VydA6l9I+CJ0sHXlnOm9/erSUqQ=", // openssl rand -base64 32
		"HTTP_ADDR":              "0.0.0.0:8080",
		"PUBLIC_URL":             "https://api.example.com",
	}
}

// noPGEnv keeps the developer's PG* variables out: pgx reads them, and so
// does the transport check.
func noPGEnv(t *testing.T) {
	for _, k := range []string{"PGSSLMODE", "PGHOST", "PGPORT", "PGSERVICE", "PGSSLROOTCERT", "PGSSLNEGOTIATION"} {
		t.Setenv(k, "")
	}
}

// TestProductionRefusesWeakSettings: in production the development and
// trivially weak sealing keys, a non-https PUBLIC_URL and a Postgres URL
// that may travel in plain text to another host are refused, each naming
// its variable and why; the accepted variants are the controls.
func TestProductionRefusesWeakSettings(t *testing.T) {
	noPGEnv(t)
	if _, err := config.LoadFrom(env(prodBase())); err != nil {
		t.Fatalf("control: the base production configuration is refused: %v", err)
	}
	kek := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	repeat := func(block []byte) []byte {
		out := make([]byte, 0, 32)
		for len(out) < 32 {
			out = append(out, block...)
		}
		return out[:32]
	}
	block16 := []byte{0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}
	cases := []struct {
		name string
		set  map[string]string
		want string // in the error, after the variable's name; "" = accepted
	}{
		{"kek/development", map[string]string{"JWT_KEY_ENCRYPTION_KEY": kek(config.DevelopmentKEK[:])}, "JWT_KEY_ENCRYPTION_KEY: is the built-in development key"},
		{"kek/zero", map[string]string{"JWT_KEY_ENCRYPTION_KEY": kek(make([]byte, 32))}, "JWT_KEY_ENCRYPTION_KEY: has too few distinct bytes"},
		{"kek/ff", map[string]string{"JWT_KEY_ENCRYPTION_KEY": kek(repeat([]byte{0xff}))}, "JWT_KEY_ENCRYPTION_KEY: has too few distinct bytes"},
		{"kek/two-byte-pattern", map[string]string{"JWT_KEY_ENCRYPTION_KEY": kek(repeat([]byte{0xab, 0xcd}))}, "JWT_KEY_ENCRYPTION_KEY: has too few distinct bytes"},
		{"kek/16-byte-block-twice", map[string]string{"JWT_KEY_ENCRYPTION_KEY": kek(repeat(block16))}, "JWT_KEY_ENCRYPTION_KEY: has too few distinct bytes"},
		{"kek/hex-text", map[string]string{"JWT_KEY_ENCRYPTION_KEY": kek([]byte("0123456789abcdef0123456789abcdef"))}, "JWT_KEY_ENCRYPTION_KEY: has too few distinct bytes"},
		{"kek/passphrase", map[string]string{"JWT_KEY_ENCRYPTION_KEY": kek([]byte("The quick brown fox jumps over 1"))}, "JWT_KEY_ENCRYPTION_KEY: is printable text"},
		{"kek/boundary-17-distinct", map[string]string{"JWT_KEY_ENCRYPTION_KEY": "ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu8zd7gE="}, ""}, // the 16-byte block twice, last byte changed
		{"public-url/http", map[string]string{"PUBLIC_URL": "http://api.example.com"}, "PUBLIC_URL: must be the https:// URL"},
		{"public-url/default-from-wildcard-addr", map[string]string{"PUBLIC_URL": ""}, "PUBLIC_URL: must be the https:// URL"},
		{"public-url/loopback-http", map[string]string{"PUBLIC_URL": "http://127.0.0.1:8080"}, ""},
		{"public-url/localhost-http", map[string]string{"PUBLIC_URL": "http://localhost:8080"}, ""},
		{"public-url/default-from-loopback-addr", map[string]string{"PUBLIC_URL": "", "HTTP_ADDR": "127.0.0.1:8080"}, ""},
		{"db/no-sslmode", map[string]string{"DATABASE_URL": "postgres://app:s3cr3t-Value@db.internal:5432/app"}, "DATABASE_URL: reaches db.internal without requiring TLS"},
		{"db/prefer", map[string]string{"DATABASE_URL": "postgres://app:s3cr3t-Value@db.internal/app?sslmode=prefer"}, "DATABASE_URL: reaches db.internal"},
		{"db/allow", map[string]string{"DATABASE_URL": "postgres://app:s3cr3t-Value@db.internal/app?sslmode=allow"}, "DATABASE_URL: reaches db.internal"},
		{"db/disable", map[string]string{"DATABASE_URL": "postgresql://app:s3cr3t-Value@10.0.0.5/app?sslmode=disable"}, "DATABASE_URL: reaches 10.0.0.5"},
		{"db/second-host-plain", map[string]string{"DATABASE_URL": "postgres://app:s3cr3t-Value@127.0.0.1:5432,db2.internal:5432/app"}, "DATABASE_URL: reaches db2.internal"},
		{"db/verify-full", map[string]string{"DATABASE_URL": "postgres://app:s3cr3t-Value@db.internal/app?sslmode=verify-full"}, ""},
		{"db/verify-ca", map[string]string{"DATABASE_URL": "postgres://app:s3cr3t-Value@db.internal/app?sslmode=verify-ca"}, ""},
		{"db/two-hosts-require", map[string]string{"DATABASE_URL": "postgres://app:s3cr3t-Value@db1.internal,db2.internal/app?sslmode=require"}, ""},
		{"db/loopback-plain", map[string]string{"DATABASE_URL": "postgres://app:s3cr3t-Value@127.0.0.1:5432/app?sslmode=disable"}, ""},
		{"db/ipv6-loopback-plain", map[string]string{"DATABASE_URL": "postgres://app:s3cr3t-Value@[::1]:5432/app"}, ""},
		{"db/localhost-plain", map[string]string{"DATABASE_URL": "postgres://app:s3cr3t-Value@localhost/app"}, ""},
		{"db/unix-socket", map[string]string{"DATABASE_URL": "postgres://app:s3cr3t-Value@/app?host=/var/run/postgresql"}, ""},
		{"db/opt-out", map[string]string{"DATABASE_URL": "postgres://app:s3cr3t-Value@db.internal/app", "DATABASE_ALLOW_INSECURE_TRANSPORT": "true"}, ""},
		{"db/opt-out-not-boolean", map[string]string{"DATABASE_ALLOW_INSECURE_TRANSPORT": "yes please"}, "DATABASE_ALLOW_INSECURE_TRANSPORT:"},
		{"db/pgsslmode-disable-env", map[string]string{"DATABASE_URL": "postgres://app:s3cr3t-Value@db.internal/app", "PGSSLMODE": "disable"}, "DATABASE_URL: reaches db.internal"},
		{"db/pgsslmode-require-env", map[string]string{"DATABASE_URL": "postgres://app:s3cr3t-Value@db.internal/app", "PGSSLMODE": "require"}, ""},
		{"db/url-overrides-env", map[string]string{"DATABASE_URL": "postgres://app:s3cr3t-Value@db.internal/app?sslmode=disable", "PGSSLMODE": "require"}, "DATABASE_URL: reaches db.internal"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			kv := prodBase()
			for k, v := range tc.set {
				if strings.HasPrefix(k, "PG") {
					t.Setenv(k, v) // pgx reads these from the process environment
					continue
				}
				kv[k] = v
			}
			_, err := config.LoadFrom(env(kv))
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "s3cr3t-Value") {
				t.Fatalf("the error shows the database password: %v", err)
			}
		})
	}
}

// TestRandomKEKsAreAccepted: the weak-key rules refuse no key that
// `openssl rand -base64 32` could plausibly produce.
func TestRandomKEKsAreAccepted(t *testing.T) {
	noPGEnv(t)
	for range 2000 {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		kv := prodBase()
		kv["JWT_KEY_ENCRYPTION_KEY"] = base64.StdEncoding.EncodeToString(b)
		if _, err := config.LoadFrom(env(kv)); err != nil {
			t.Fatalf("random key %x refused: %v", b, err)
		}
	}
}

// TestDevelopmentKeepsConveniences: the production rules stay out of
// development, where a local Postgres over plain text, http and the
// built-in key are the point.
func TestDevelopmentKeepsConveniences(t *testing.T) {
	noPGEnv(t)
	kv := maps.Clone(prodBase())
	kv["APP_ENV"] = "development"
	kv["DATABASE_URL"] = "postgres://app:pw@db.internal/app"
	kv["PUBLIC_URL"] = "http://dev.example.com"
	kv["JWT_KEY_ENCRYPTION_KEY"] = base64.StdEncoding.EncodeToString(make([]byte, 32))
	if _, err := config.LoadFrom(env(kv)); err != nil {
		t.Fatalf("development refused: %v", err)
	}
}
