package processtest

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"github.com/acme/monolith/platform/testkit"
)

// runOK runs the binary, which must succeed within a minute, and returns
// its stdout.
func runOK(t *testing.T, env map[string]string, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = environ(env)
	cmd.Dir = t.TempDir()
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v: %v\nstdout:\n%s\nstderr:\n%s", args, err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// TestCommandsNeedOnlyTheirSecrets: with APP_ENV=production and nothing but
// DATABASE_URL, `migrate up` and `migrate status` work on Postgres and so
// does `users create-superuser`, while `serve` and `keys rotate`, which
// use the signing keys, refuse with one line naming them (serve checks
// every section first and names both; keys rotate validates the sections
// its graph builds, one constructor at a time); given the keys, `keys
// rotate` runs.
func TestCommandsNeedOnlyTheirSecrets(t *testing.T) {
	env := map[string]string{
		"APP_ENV":      "production",
		"DATABASE_URL": testkit.NewDatabaseURL(t, dialect.Postgres),
	}
	if out := runOK(t, env, "", "migrate", "up"); !strings.Contains(out, "applied ") {
		t.Fatalf("migrate up applied nothing:\n%s", out)
	}
	if out := runOK(t, env, "", "migrate", "status", "--exit-code"); !strings.Contains(out, " 0 pending") {
		t.Fatalf("migrate status after up:\n%s", out)
	}
	if out := runOK(t, env, "a long production passphrase\n", "users", "create-superuser", "--email", "ops@example.test", "--password-stdin"); !strings.Contains(out, "created superuser ops@example.test") {
		t.Fatalf("create-superuser:\n%s", out)
	}

	runFailing(t, env, "serve").requireOneClearLine(t, "JWT_PRIVATE_KEY:", "JWT_KEY_ENCRYPTION_KEY:")
	runFailing(t, env, "keys", "rotate").requireOneClearLine(t, "JWT_PRIVATE_KEY:")
	env["JWT_PRIVATE_KEY"] = testkit.SigningKeyPEM(t)
	runFailing(t, env, "keys", "rotate").requireOneClearLine(t, "JWT_KEY_ENCRYPTION_KEY:")

	env["JWT_KEY_ENCRYPTION_KEY"] = randomKEK(t)
	if out := runOK(t, env, "", "keys", "rotate"); !strings.Contains(out, "published next key") {
		t.Fatalf("keys rotate with its secrets:\n%s", out)
	}
}
