package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/acme/monolith/platform/config"
)

func env(kv map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
}

func TestDefaultsAreValid(t *testing.T) {
	c, err := config.LoadFrom(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Env != config.Development || c.HTTP.Addr != "127.0.0.1:8080" || c.Database.URL != config.DefaultDatabaseURL ||
		c.Password.MemoryKiB != 19456 {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestInvalidValuesNameTheVariable(t *testing.T) {
	cases := map[string]string{
		"APP_ENV":                  "staging",
		"LOG_LEVEL":                "loud",
		"HTTP_READ_TIMEOUT":        "soon",
		"HTTP_BODY_LIMIT":          "-1",
		"HTTP_MAX_CONNS":           "-1",
		"HTTP_MAX_CONNS_PER_IP":    "lots",
		"HTTP_SHUTDOWN_IDLE_GRACE": "30s", // not shorter than HTTP_SHUTDOWN_TIMEOUT (20s)
		"DATABASE_URL":             "mysql://x",
		"DB_MAX_OPEN_CONNS":        "many",
		"MIGRATE_ON_START":         "maybe",
		"PUBLIC_URL":               "ftp://x",
		"PASSWORD_HASH_ITERATIONS": "0",
		"DEBUG_PPROF_ADDR":         "0.0.0.0:6060",
	}
	for name, value := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := config.LoadFrom(env(map[string]string{name: value}))
			if err == nil || !strings.Contains(err.Error(), name+":") {
				t.Fatalf("err = %v, want it to name %s", err, name)
			}
		})
	}
}

func TestProductionRequiresExplicitSecrets(t *testing.T) {
	_, err := config.LoadFrom(env(map[string]string{"APP_ENV": "production"}))
	if err == nil {
		t.Fatal("production started with development defaults")
	}
	for _, name := range []string{"DATABASE_URL", "JWT_KEY_ENCRYPTION_KEY"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	good := map[string]string{
		"APP_ENV":      "production",
		"DATABASE_URL": "postgres://app:s3cr3t-Value@db:5432/app?sslmode=require",
		// Sealing key for the signing keys stored in the database.
		"JWT_KEY_ENCRYPTION_KEY": "cXu2bG2Sxaf3sDH+VydA6l9I+CJ0sHXlnOm9/erSUqQ=",
	}
	if _, err := config.LoadFrom(env(good)); err != nil {
		t.Fatalf("explicit production config refused: %v", err)
	}
	placeholders := map[string]string{
		"DATABASE_URL":             "postgres://app:changethis@db:5432/app?sslmode=require",
		"DATABASE_DIRECT_URL":      "postgres://app:changethis@db:5432/app?sslmode=require",
		"PASSWORD_HASH_MEMORY_KIB": "1024",
	}
	for name, value := range placeholders {
		t.Run(name, func(t *testing.T) {
			kv := map[string]string{}
			for k, v := range good {
				kv[k] = v
			}
			kv[name] = value
			if _, err := config.LoadFrom(env(kv)); err == nil || !strings.Contains(err.Error(), name) {
				t.Fatalf("%s=%s accepted in production (err %v)", name, value, err)
			}
		})
	}
}

// TestSessionSettingsAreChecked covers the auth edge settings: each bad
// value is named, and a valid combination (the control) is accepted.
func TestSessionSettingsAreChecked(t *testing.T) {
	bad := map[string]map[string]string{
		"PASSWORD_HASH_QUEUE":         {"PASSWORD_HASH_QUEUE": "-1"},
		"PASSWORD_HASH_QUEUE_TIMEOUT": {"PASSWORD_HASH_QUEUE_TIMEOUT": "1m"},
		"CORS_ALLOWED_ORIGINS":        {"CORS_ALLOWED_ORIGINS": "*", "CORS_ALLOW_CREDENTIALS": "true"},
		"TRUSTED_PROXIES":             {"TRUSTED_PROXIES": "10.0.0.0/8, proxy.internal"},
		"JWT_KEY_ENCRYPTION_KEY":      {"JWT_KEY_ENCRYPTION_KEY": "c2hvcnQ="},
		"SMTP_FROM":                   {"SMTP_HOST": "mail.example.test", "SMTP_FROM": "not an address"},
		"SMTP_TLS":                    {"SMTP_HOST": "mail.example.test", "SMTP_FROM": "a@example.test", "SMTP_TLS": "none", "SMTP_USERNAME": "u"},
	}
	for name, kv := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := config.LoadFrom(env(kv)); err == nil || !strings.Contains(err.Error(), name+":") {
				t.Fatalf("err = %v, want it to name %s", err, name)
			}
		})
	}
	c, err := config.LoadFrom(env(map[string]string{
		"PASSWORD_HASH_QUEUE": "0", "PASSWORD_HASH_QUEUE_TIMEOUT": "0",
		"CORS_ALLOWED_ORIGINS": "https://app.example.test", "CORS_ALLOW_CREDENTIALS": "true",
		"TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1",
		"SMTP_HOST":       "mail.example.test", "SMTP_FROM": "noreply@example.test",
	}))
	if err != nil || len(c.Sessions.TrustedProxies) != 2 || len(c.Sessions.KeyEncryptionKey) != 32 ||
		c.Password.Queue != 0 || c.Password.QueueTimeout != 0 {
		t.Fatalf("valid settings refused or misread: %+v %v", c.Sessions, err)
	}
}

// TestQueryTimeout: DB_QUERY_TIMEOUT defaults to 5s, may be 0 (off), and
// must be shorter than HTTP_WRITE_TIMEOUT so a request waiting on the
// database gets its 503 before the write deadline.
func TestQueryTimeout(t *testing.T) {
	c, err := config.LoadFrom(env(nil))
	if err != nil || c.Database.QueryTimeout != config.DefaultQueryTimeout || config.DefaultQueryTimeout != 5*time.Second {
		t.Fatalf("default: %v %v", c.Database.QueryTimeout, err)
	}
	if c, err := config.LoadFrom(env(map[string]string{"DB_QUERY_TIMEOUT": "0"})); err != nil || c.Database.QueryTimeout != 0 {
		t.Fatalf("0: %v %v", c.Database.QueryTimeout, err)
	}
	for _, kv := range []map[string]string{
		{"DB_QUERY_TIMEOUT": "soon"},
		{"DB_QUERY_TIMEOUT": "-1s"},
		{"DB_QUERY_TIMEOUT": "30s"}, // = the default HTTP_WRITE_TIMEOUT
		{"DB_QUERY_TIMEOUT": "10s", "HTTP_WRITE_TIMEOUT": "5s"},
	} {
		if _, err := config.LoadFrom(env(kv)); err == nil || !strings.Contains(err.Error(), "DB_QUERY_TIMEOUT:") {
			t.Errorf("%v: err = %v, want it to name DB_QUERY_TIMEOUT", kv, err)
		}
	}
	// A migration does not serve HTTP: the comparison is not its business.
	if _, err := config.LoadSectionsFrom(env(map[string]string{"DB_QUERY_TIMEOUT": "10s", "HTTP_WRITE_TIMEOUT": "5s"}), config.DatabaseSection); err != nil {
		t.Errorf("database section alone: %v", err)
	}
}

// TestDirectURL: DATABASE_DIRECT_URL defaults to DATABASE_URL, is taken
// as given next to a pooled Postgres URL, is refused beside SQLite or when
// it is not Postgres, and production holds it to the same TLS rule.
func TestDirectURL(t *testing.T) {
	pooled := "postgres://app@127.0.0.1:6432/app?default_query_exec_mode=exec"
	direct := "postgres://app@127.0.0.1:5432/app"
	c, err := config.LoadSectionsFrom(env(map[string]string{"DATABASE_URL": pooled}), config.DatabaseSection)
	if err != nil || c.Database.DirectURL != "" {
		t.Fatalf("default: %q %v, want empty (DATABASE_URL itself)", c.Database.DirectURL, err)
	}
	c, err = config.LoadSectionsFrom(env(map[string]string{"DATABASE_URL": pooled, "DATABASE_DIRECT_URL": direct}), config.DatabaseSection)
	if err != nil || c.Database.DirectURL != direct || c.Database.URL != pooled {
		t.Fatalf("set: %+v %v", c.Database, err)
	}
	for name, kv := range map[string]map[string]string{
		"beside SQLite": {"DATABASE_URL": "sqlite://./var/x.db", "DATABASE_DIRECT_URL": direct},
		"not Postgres":  {"DATABASE_URL": pooled, "DATABASE_DIRECT_URL": "mysql://db/app"},
	} {
		if _, err := config.LoadSectionsFrom(env(kv), config.DatabaseSection); err == nil || !strings.Contains(err.Error(), "DATABASE_DIRECT_URL") {
			t.Errorf("%s: accepted (%v)", name, err)
		}
	}
	prod := map[string]string{
		"APP_ENV":                "production",
		"DATABASE_URL":           "postgres://app:s3cr3t-Value@pgbouncer:6432/app?sslmode=require",
		"DATABASE_DIRECT_URL":    "postgres://app:s3cr3t-Value@db:5432/app?sslmode=disable",
		"JWT_KEY_ENCRYPTION_KEY": "cXu2bG2Sxaf3sDH+VydA6l9I+CJ0sHXlnOm9/erSUqQ=",
	}
	if _, err := config.LoadFrom(env(prod)); err == nil || !strings.Contains(err.Error(), "DATABASE_DIRECT_URL") {
		t.Fatalf("a direct URL without TLS accepted in production: %v", err)
	}
	prod["DATABASE_DIRECT_URL"] = "postgres://app:s3cr3t-Value@db:5432/app?sslmode=verify-full"
	if _, err := config.LoadFrom(env(prod)); err != nil {
		t.Fatalf("control: %v", err)
	}
}
