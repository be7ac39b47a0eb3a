package devcmd

import (
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"github.com/acme/monolith/cmd/internal/clitest"
	"github.com/acme/monolith/platform/testkit"
)

// run executes the development binary's CLI in-process with the given
// environment.
func run(t *testing.T, env map[string]string, stdin string, args ...string) (string, error) {
	t.Helper()
	return clitest.Run(t, NewRoot(), env, stdin, args...)
}

func baseEnv(t *testing.T, url string) map[string]string {
	return map[string]string{
		"DATABASE_URL":    url,
		"JWT_PRIVATE_KEY": testkit.SigningKeyPEM(t),
		"LOG_LEVEL":       "warn",
	}
}

func TestOpenAPIDocument(t *testing.T) {
	env := baseEnv(t, testkit.NewDatabaseURL(t, dialect.SQLite))
	out, err := run(t, env, "", "openapi")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"openapi": "3.1.0"`, `"/api/auth/login"`, `"/api/users/{id}"`, `"tokenUrl": "/api/auth/login"`, `application/x-www-form-urlencoded`} {
		if !strings.Contains(out, want) {
			t.Errorf("OpenAPI document lacks %s", want)
		}
	}
}
