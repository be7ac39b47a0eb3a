package processtest

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/acme/monolith/platform/testkit"
)

// TestWebAndWorkerDeliverMail is the production topology: `serve` with
// JOBS_WORK=false answers the API and only queues email; `app worker`,
// with the database and the key-encryption key but no signing key, opens
// the sealed message and delivers it through a real SMTP server. A
// worker without the key the web process sealed with would cancel the
// mail, so the two must share it (deploy/ gives the worker that key).
func TestWebAndWorkerDeliverMail(t *testing.T) {
	testkit.RequirePostgres(t)
	box := testkit.StartMailbox(t)
	_, port, _ := strings.Cut(box.Addr(), ":")
	kek := randomKEK(t)
	shared := map[string]string{
		"APP_ENV": "production", "DATABASE_URL": testkit.NewDatabaseURL(t, "postgres"),
		"JWT_KEY_ENCRYPTION_KEY": kek, "JOBS_POLL_INTERVAL": "100ms",
		"SMTP_HOST": "127.0.0.1", "SMTP_PORT": port, "SMTP_FROM": "noreply@example.test", "SMTP_TLS": "none",
	}
	runOK(t, shared, "", "migrate", "up")
	keyFile := filepath.Join(t.TempDir(), "key.pem")
	if err := os.WriteFile(keyFile, []byte(testkit.SigningKeyPEM(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	web := map[string]string{
		"JOBS_WORK": "false", "JWT_PRIVATE_KEY_FILE": keyFile, "PUBLIC_URL": "https://app.example.test",
		"FIRST_SUPERUSER_EMAIL": "zoë@example.test", "FIRST_SUPERUSER_PASSWORD": "a long production passphrase",
	}
	for k, v := range shared {
		web[k] = v
	}
	s := startServer(t, web)

	body := strings.NewReader(`{"email":"zoë@example.test"}`)
	res, err := http.Post(s.base+"/api/auth/password-recovery", "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("recovery: %d\n%s", res.StatusCode, s.logs.String())
	}
	if n := len(box.Messages()); n != 0 {
		t.Fatalf("the web process (JOBS_WORK=false) delivered %d mails itself", n)
	}

	startWorkerOf(t, binary, shared)
	got := box.WaitTo("zoë@example.test", 1)
	if !strings.Contains(got[0].Body, "https://app.example.test/reset-password#token=") {
		t.Fatalf("the worker delivered %q", got[0].Body)
	}
}
