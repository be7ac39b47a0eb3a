package config_test

import (
	"strings"
	"testing"

	"github.com/acme/monolith/platform/config"
)

// TestSectionsValidateOnlyWhatACommandUses: a production environment with
// only DATABASE_URL loads for a command that uses the database alone (a
// migration) and not for one that needs the keys; a used section is
// still checked in full, and unused ones are left zero.
func TestSectionsValidateOnlyWhatACommandUses(t *testing.T) {
	noPGEnv(t)
	migrateEnv := map[string]string{
		"APP_ENV":      "production",
		"DATABASE_URL": "postgres://app:s3cr3t-Value@db.internal/app?sslmode=verify-full",
		// Settings shared through the ConfigMap that migrate never reads.
		"HTTP_ADDR": "0.0.0.0:8080",
	}
	c, err := config.LoadSectionsFrom(env(migrateEnv), config.DatabaseSection)
	if err != nil {
		t.Fatalf("the database section alone refused: %v", err)
	}
	if c.Database.URL != migrateEnv["DATABASE_URL"] || c.Database.MaxOpenConns != 20 {
		t.Fatalf("database section misread: %+v", c.Database)
	}
	if c.Sessions.KeyEncryptionKey != nil || c.HTTP != (config.HTTP{}) || c.Password != (config.Password{}) {
		t.Fatalf("unused sections are not zero: %+v", c)
	}

	// Control: the whole configuration (serve) still demands the keys.
	_, err = config.LoadFrom(env(migrateEnv))
	for _, name := range []string{"JWT_KEY_ENCRYPTION_KEY:", "PUBLIC_URL:"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("serve's configuration does not refuse the missing %s: %v", name, err)
		}
	}

	// A used section is checked in full, production rules included.
	for name, value := range map[string]string{
		"DATABASE_URL":      "postgres://app:s3cr3t-Value@db.internal/app",
		"DB_MAX_OPEN_CONNS": "many",
	} {
		kv := map[string]string{"APP_ENV": "production", "DATABASE_URL": migrateEnv["DATABASE_URL"], name: value}
		if _, err := config.LoadSectionsFrom(env(kv), config.DatabaseSection); err == nil || !strings.Contains(err.Error(), name+":") {
			t.Errorf("%s=%s accepted for the database section: %v", name, value, err)
		}
	}
	// APP_ENV and LOG_LEVEL belong to every command.
	if _, err := config.LoadSectionsFrom(env(map[string]string{"LOG_LEVEL": "loud"}), config.DatabaseSection); err == nil || !strings.Contains(err.Error(), "LOG_LEVEL:") {
		t.Errorf("LOG_LEVEL not checked for the database section: %v", err)
	}

	// Key rotation: the database and the sealing key (the signing key is
	// the auth module's section).
	rotate := config.DatabaseSection | config.SessionsSection
	rotateEnv := map[string]string{
		"APP_ENV":                "production",
		"DATABASE_URL":           migrateEnv["DATABASE_URL"],
		"JWT_KEY_ENCRYPTION_KEY": prodBase()["JWT_KEY_ENCRYPTION_KEY"],
		"PUBLIC_URL":             "http://not-used-by-rotation.example.com",
	}
	if c, err := config.LoadSectionsFrom(env(rotateEnv), rotate); err != nil || len(c.Sessions.KeyEncryptionKey) != 32 {
		t.Fatalf("key rotation's sections refused or misread: %v", err)
	}
	delete(rotateEnv, "JWT_KEY_ENCRYPTION_KEY")
	if _, err := config.LoadSectionsFrom(env(rotateEnv), rotate); err == nil || !strings.Contains(err.Error(), "JWT_KEY_ENCRYPTION_KEY:") {
		t.Fatalf("key rotation without the sealing key: %v", err)
	}
}
