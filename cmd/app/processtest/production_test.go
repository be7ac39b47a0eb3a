package processtest

import (
	"crypto/rand"
	"encoding/base64"
	"maps"
	"path/filepath"
	"testing"
)

// randomKEK is a key-encryption key as `openssl rand -base64 32` makes.
func randomKEK(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// TestServeRefusesProductionMisconfiguration: production `serve` refuses a
// made-up sealing key, an http PUBLIC_URL and a Postgres URL that may
// travel in plain text to another host, each with one line naming the
// variable, before it touches the network.
func TestServeRefusesProductionMisconfiguration(t *testing.T) {
	base := map[string]string{
		"APP_ENV":                "production",
		"DATABASE_URL":           "postgres://app:s3cr3t-value@127.0.0.1:1/app?sslmode=disable",
		"JWT_PRIVATE_KEY_FILE":   filepath.Join(t.TempDir(), "key.pem"),
		"JWT_KEY_ENCRYPTION_KEY": randomKEK(t),
		"HTTP_ADDR":              "0.0.0.0:0",
		"PUBLIC_URL":             "https://api.example.com",
		"METRICS_ADDR":           "off",
	}
	// Control: the base passes the configuration, so each case below is
	// refused for its own change; it then stops at the database.
	runFailing(t, base, "serve").requireOneClearLine(t, "database unreachable (check DATABASE_URL)")

	for name, tc := range map[string]struct {
		set  map[string]string
		want []string
	}{
		"all-zero-kek": {map[string]string{"JWT_KEY_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(make([]byte, 32))},
			[]string{"JWT_KEY_ENCRYPTION_KEY:", "openssl rand -base64 32"}},
		"http-public-url": {map[string]string{"PUBLIC_URL": "http://api.example.com"},
			[]string{"PUBLIC_URL:", "https://"}},
		"public-url-defaulted-from-wildcard-addr": {map[string]string{"PUBLIC_URL": ""},
			[]string{"PUBLIC_URL:", "https://"}},
		"remote-postgres-without-tls": {map[string]string{"DATABASE_URL": "postgres://app:s3cr3t-value@db.example.com/app"},
			[]string{"DATABASE_URL:", "sslmode=require", "DATABASE_ALLOW_INSECURE_TRANSPORT=true"}},
		"remote-postgres-prefer": {map[string]string{"DATABASE_URL": "postgres://app:s3cr3t-value@db.example.com/app?sslmode=prefer"},
			[]string{"DATABASE_URL:", "sslmode=require"}},
	} {
		t.Run(name, func(t *testing.T) {
			env := maps.Clone(base)
			maps.Copy(env, tc.set)
			f := runFailing(t, env, "serve")
			f.requireOneClearLine(t, tc.want...)
			if f.code != 1 {
				t.Errorf("exit code %d, want 1", f.code)
			}
		})
	}
}
