package appcmd

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/acme/monolith/platform/config"
)

// TestConfigFilesAreCurrent: .env.example and the settings table of
// docs/operations.md are what the registered sections produce; the
// failure names the command that rewrites them. The control edits a copy
// and sees it reported.
func TestConfigFilesAreCurrent(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	stale, err := staleConfigFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) > 0 {
		t.Errorf("%s stale: run `make generate` (go run ./cmd/app config generate) and commit", strings.Join(stale, ", "))
	}

	copyDir := t.TempDir()
	for _, path := range []string{config.EnvExampleFile, config.OperationsFile} {
		b, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			t.Fatal(err)
		}
		if path == config.EnvExampleFile {
			b = bytes.Replace(b, []byte("SIGNUP_ENABLED=true\n"), nil, 1)
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(copyDir, path)), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(copyDir, path), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if stale, err := staleConfigFiles(copyDir); err != nil || !slices.Equal(stale, []string{config.EnvExampleFile}) {
		t.Fatalf("control: a .env.example without a module's variable is reported as %v (%v)", stale, err)
	}
	// The generated files hold every module's variables with their docs.
	files, err := configFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(files[config.OperationsFile], []byte("| `SIGNUP_ENABLED` | users | `true` | open registration")) ||
		!bytes.Contains(files[config.EnvExampleFile], []byte("\nREGISTER_THROTTLE_WINDOW=1h\n")) {
		t.Fatal("the users module's section is missing from the generated files")
	}
}

// TestConfigCommandShowsSourcesAndRedactsSecrets: `app config` prints
// each variable's value and where it comes from (the environment, .env
// or the default), and never a secret's value.
func TestConfigCommandShowsSourcesAndRedactsSecrets(t *testing.T) {
	dir := t.TempDir()
	env := "FIRST_SUPERUSER_EMAIL=root@example.test\nFIRST_SUPERUSER_PASSWORD=dotenv-secret-value\nHTTP_ADDR=127.0.0.1:9999\n"
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(env), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	t.Setenv("APP_ENV", "")
	t.Setenv("HTTP_ADDR", "127.0.0.1:7777")
	t.Setenv("SMTP_PASSWORD", "env-secret-value")
	t.Setenv("MIGRATE_DEV_URL", "postgres://dev:url-secret-value@127.0.0.1:5432/postgres")
	var out bytes.Buffer
	root := NewRoot(nil)
	root.SetOut(&out)
	root.SetArgs([]string{"config"})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	rows := map[string][]string{}
	for line := range strings.Lines(out.String()) {
		f := strings.Fields(line)
		rows[f[1]] = f
	}
	for name, want := range map[string][]string{
		"HTTP_ADDR":                {"http", "HTTP_ADDR", "127.0.0.1:7777", "env", "127.0.0.1:8080"},
		"FIRST_SUPERUSER_EMAIL":    {"users", "FIRST_SUPERUSER_EMAIL", "root@example.test", ".env", "-"},
		"FIRST_SUPERUSER_PASSWORD": {"users", "FIRST_SUPERUSER_PASSWORD", "(redacted)", ".env", "-"},
		"SMTP_PASSWORD":            {"mail", "SMTP_PASSWORD", "(redacted)", "env", "-"},
		"MIGRATE_DEV_URL":          {"database", "MIGRATE_DEV_URL", "(redacted)", "env", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"},
		"SIGNUP_ENABLED":           {"users", "SIGNUP_ENABLED", "true", "default", "true"},
	} {
		if !slices.Equal(rows[name], want) {
			t.Errorf("%s: %q, want %q", name, rows[name], want)
		}
	}
	if strings.Contains(out.String(), "secret-value") {
		t.Fatalf("a secret is printed:\n%s", out.String())
	}
}
