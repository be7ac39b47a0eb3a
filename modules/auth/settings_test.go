package auth_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/acme/monolith/modules/auth"
	"github.com/acme/monolith/platform/buildinfo"
	"github.com/acme/monolith/platform/config"
)

// TestSettingsAreChecked: each bad value of the auth section is named,
// production demands a signing key, and development generates one.
func TestSettingsAreChecked(t *testing.T) {
	bad := map[string]map[string]string{
		"ACCESS_TOKEN_TTL:":                                             {"ACCESS_TOKEN_TTL": "1s"},
		"AUTH_THROTTLE_IP_LIMIT:":                                       {"AUTH_THROTTLE_ACCOUNT_IP_LIMIT": "10", "AUTH_THROTTLE_IP_LIMIT": "49"},
		"AUTH_THROTTLE_ACCOUNT_LIMIT:":                                  {"AUTH_THROTTLE_ACCOUNT_IP_LIMIT": "10", "AUTH_THROTTLE_ACCOUNT_LIMIT": "19"},
		"AUTH_THROTTLE_WINDOW:":                                         {"AUTH_THROTTLE_WINDOW": "25h"},
		"REFRESH_TOKEN_IDLE_TTL:":                                       {"REFRESH_TOKEN_IDLE_TTL": "800h", "REFRESH_TOKEN_ABSOLUTE_TTL": "700h"},
		"REFRESH_TOKEN_REUSE_GRACE:":                                    {"REFRESH_TOKEN_REUSE_GRACE": "2m"},
		"SESSION_CACHE_TTL:":                                            {"SESSION_CACHE_TTL": "2m"},
		"PASSWORD_RESET_TTL:":                                           {"PASSWORD_RESET_TTL": "25h"},
		"PASSWORD_RESET_URL: must contain {token} exactly once":         {"PASSWORD_RESET_URL": "https://front.example/reset"},
		"PASSWORD_RESET_URL: must contain {token} exactly once (":       {"PASSWORD_RESET_URL": "https://front.example/r#{token}{token}"},
		"PASSWORD_RESET_URL: must be an absolute http":                  {"PASSWORD_RESET_URL": "/reset#token={token}"},
		"PASSWORD_RESET_URL: must be an absolute http or https":         {"PASSWORD_RESET_URL": "javascript:alert(1)//{token}"},
		"JWT_PRIVATE_KEY: set either":                                   {"JWT_PRIVATE_KEY": "pem", "JWT_PRIVATE_KEY_FILE": "/k.pem"},
		"AUTH_MFA_THROTTLE_DAILY_LIMIT: must be at least":               {"AUTH_MFA_THROTTLE_LIMIT": "10", "AUTH_MFA_THROTTLE_DAILY_LIMIT": "9"},
		"AUTH_MFA_TOKEN_TTL:":                                           {"AUTH_MFA_TOKEN_TTL": "1h"},
		"JWT_PRIVATE_KEY: a signing key must be provided in production": {"APP_ENV": "production"},
		"JWT_PRIVATE_KEY: is a placeholder":                             {"APP_ENV": "production", "JWT_PRIVATE_KEY": "changethis"},
	}
	for want, kv := range bad {
		t.Run(want, func(t *testing.T) {
			if _, err := config.Parse[auth.Settings](config.SourceFrom(kv)); err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v, want it to contain %q", err, want)
			}
		})
	}
	s, err := config.Parse[auth.Settings](config.SourceFrom(nil))
	if err != nil || s.PrivateKeyFile != auth.DefaultSigningKeyFile || s.Issuer != buildinfo.Service || s.Audience != buildinfo.Service+"-api" || s.ThrottleAccount != 50 {
		t.Fatalf("development defaults: %+v %v", s, err)
	}
	s, err = config.Parse[auth.Settings](config.SourceFrom(map[string]string{
		"APP_ENV": "production", "JWT_PRIVATE_KEY_FILE": "/secrets/jwt.pem", "SESSION_CACHE_TTL": "0",
		"AUTH_THROTTLE_ACCOUNT_IP_LIMIT": "10", "AUTH_THROTTLE_ACCOUNT_LIMIT": "20", "AUTH_THROTTLE_IP_LIMIT": "50",
	}))
	if err != nil || s.PrivateKeyFile != "/secrets/jwt.pem" || s.SessionCacheTTL != 0 || s.ThrottleAccountIP != 10 {
		t.Fatalf("control: production with a key file: %+v %v", s, err)
	}
	if got := s.ResetLink("https://api.example/"); got != "https://api.example/reset-password#token={token}" {
		t.Fatalf("the default reset link: %s", got)
	}
	s, err = config.Parse[auth.Settings](config.SourceFrom(map[string]string{"PASSWORD_RESET_URL": "https://front.example/ワード#t={token}"}))
	if err != nil || s.ResetLink("https://api.example") != "https://front.example/ワード#t={token}" {
		t.Fatalf("a frontend's reset link: %q %v", s.ResetURL, err)
	}
}

// TestOAuthClients: public and confidential registrations, the default
// client, and each malformed entry refused by the variable's name without
// echoing what may be a secret pasted by mistake.
func TestOAuthClients(t *testing.T) {
	parse := func(kv map[string]string) (auth.Settings, error) {
		return config.Parse[auth.Settings](config.SourceFrom(kv))
	}
	s, err := parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	public := func(c interface {
		Authenticate(id, secret string) (string, error)
	}, id string) bool {
		got, err := c.Authenticate(id, "")
		return err == nil && got == id
	}
	if c := s.Clients(); c.Default() != auth.DefaultClient || !public(c, auth.DefaultClient) || public(c, "web") {
		t.Fatalf("default clients = %+v", c)
	}
	hash := strings.Repeat("ab", 32)
	s, err = parse(map[string]string{"OAUTH_CLIENTS": "web, cli ,backend=sha256:" + hash, "OAUTH_DEFAULT_CLIENT": "web"})
	if err != nil {
		t.Fatal(err)
	}
	c := s.Clients()
	if c.Default() != "web" || !public(c, "web") || !public(c, "cli") || public(c, "backend") || public(c, auth.DefaultClient) {
		t.Fatalf("clients = %+v", c)
	}
	secret := "the secret"
	sum := sha256.Sum256([]byte(secret))
	s, err = parse(map[string]string{"OAUTH_CLIENTS": "default,backend=sha256:" + hex.EncodeToString(sum[:])})
	if id, err2 := s.Clients().Authenticate("backend", secret); err != nil || err2 != nil || id != "backend" {
		t.Fatalf("confidential client: %v %v %q", err, err2, id)
	}
	for name, vars := range map[string]map[string]string{
		"bad-id":             {"OAUTH_CLIENTS": "web app"},
		"secret-after-colon": {"OAUTH_CLIENTS": "default,reports:hunter2hunter2"},
		"duplicate":          {"OAUTH_CLIENTS": "web,web", "OAUTH_DEFAULT_CLIENT": "web"},
		"plain-secret":       {"OAUTH_CLIENTS": "default,backend=hunter2hunter2"},
		"short-hash":         {"OAUTH_CLIENTS": "default,backend=sha256:abcd"},
		"default-unknown":    {"OAUTH_CLIENTS": "web"},
		"default-not-public": {"OAUTH_CLIENTS": "backend=sha256:" + hash, "OAUTH_DEFAULT_CLIENT": "backend"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parse(vars)
			if err == nil || !strings.Contains(err.Error(), "OAUTH_") || strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("err = %v", err)
			}
		})
	}
}

// TestEmailLinkSettings: the verification and change links default to
// the pages the module serves, a frontend's templates replace them, and a
// bad template or lifetime is named; a section apart from the signing key,
// which production requires of Settings but not here.
func TestEmailLinkSettings(t *testing.T) {
	for want, kv := range map[string]map[string]string{
		"EMAIL_VERIFY_URL: must contain {token} exactly once": {"EMAIL_VERIFY_URL": "https://front.example/verify"},
		"EMAIL_CHANGE_URL: must be an absolute http":          {"EMAIL_CHANGE_URL": "/confirm#token={token}"},
		"EMAIL_VERIFICATION_TTL:":                             {"EMAIL_VERIFICATION_TTL": "200h"},
		"EMAIL_CHANGE_TTL:":                                   {"EMAIL_CHANGE_TTL": "30s"},
	} {
		if _, err := config.Parse[auth.EmailSettings](config.SourceFrom(kv)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to contain %q", err, want)
		}
	}
	s, err := config.Parse[auth.EmailSettings](config.SourceFrom(map[string]string{"APP_ENV": "production"}))
	if err != nil {
		t.Fatal(err)
	}
	l := s.EmailLinks("https://api.example/")
	if l.VerifyLink != "https://api.example/verify-email#token={token}" || l.ChangeLink != "https://api.example/confirm-email#token={token}" {
		t.Fatalf("default links: %+v", l)
	}
	s, err = config.Parse[auth.EmailSettings](config.SourceFrom(map[string]string{"EMAIL_VERIFY_URL": "https://front.example/v#t={token}"}))
	if err != nil || s.EmailLinks("https://api.example").VerifyLink != "https://front.example/v#t={token}" {
		t.Fatalf("a frontend's verification link: %+v %v", s, err)
	}
}
