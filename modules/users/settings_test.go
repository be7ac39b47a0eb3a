package users_test

import (
	"strings"
	"testing"

	"github.com/acme/monolith/modules/users"
	"github.com/acme/monolith/platform/config"
)

// TestSettingsAreChecked: each bad value of the users section is named;
// the controls load.
func TestSettingsAreChecked(t *testing.T) {
	bad := map[string]map[string]string{
		"FIRST_SUPERUSER_PASSWORD: FIRST_SUPERUSER_EMAIL and FIRST_SUPERUSER_PASSWORD must be set together": {"FIRST_SUPERUSER_EMAIL": "a@example.test"},
		"FIRST_SUPERUSER_PASSWORD: is a placeholder":                                                        {"APP_ENV": "production", "FIRST_SUPERUSER_EMAIL": "a@example.test", "FIRST_SUPERUSER_PASSWORD": "changethis"},
		"REGISTER_THROTTLE_IP_LIMIT:":                                                                       {"REGISTER_THROTTLE_IP_LIMIT": "0"},
		"REGISTER_THROTTLE_WINDOW:":                                                                         {"REGISTER_THROTTLE_WINDOW": "25h"},
		"SIGNUP_ENABLED:":                                                                                   {"SIGNUP_ENABLED": "perhaps"},
	}
	for want, kv := range bad {
		t.Run(want, func(t *testing.T) {
			if _, err := config.Parse[users.Settings](config.SourceFrom(kv)); err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("err = %v, want it to contain %q", err, want)
			}
		})
	}
	s, err := config.Parse[users.Settings](config.SourceFrom(map[string]string{
		"APP_ENV": "production", "FIRST_SUPERUSER_EMAIL": "a@example.test", "FIRST_SUPERUSER_PASSWORD": "a real long passphrase",
	}))
	if err != nil || !s.SignupEnabled || s.RegisterLimit != 30 || s.RegisterWindow.String() != "1h0m0s" {
		t.Fatalf("control: %+v %v", s, err)
	}
}
