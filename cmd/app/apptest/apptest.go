// Package apptest starts the whole application (the platform and the
// module list of cmd/app/modules) in a test and signs users in through the
// account modules' routes. It lives beside the module list, outside the
// platform, because it knows the features: platform/testkit, which it
// builds on, stays blind to them.
package apptest

import (
	"slices"
	"testing"

	"go.uber.org/fx"

	"github.com/acme/monolith/cmd/app/modules"
	"github.com/acme/monolith/platform/database"
	"github.com/acme/monolith/platform/testkit"
)

// Superuser credentials every started App bootstraps.
const (
	SuperuserEmail    = "root@example.test"
	SuperuserPassword = "testkit superuser passphrase"
)

// App is a started application with the account helpers of its modules;
// the generic ones (Do, URL, DB...) come from testkit.App.
type App struct {
	*testkit.App
	t     testing.TB
	token string
}

// Start starts every module of the application on db (testkit.Start with
// the module list). Each App signs with the shared test key and bootstraps
// the superuser; opts given here win over those defaults.
func Start(t testing.TB, db *database.DB, opts ...testkit.Option) *App {
	t.Helper()
	defaults := []testkit.Option{
		testkit.WithModules(modules.All...),
		// Variables of the auth and users settings sections.
		testkit.WithEnv("JWT_PRIVATE_KEY", testkit.SigningKeyPEM(t)),
		testkit.WithEnv("FIRST_SUPERUSER_EMAIL", SuperuserEmail),
		testkit.WithEnv("FIRST_SUPERUSER_PASSWORD", SuperuserPassword),
		// No request sends it before a response could echo it.
		testkit.WithSecret(SuperuserPassword),
	}
	return &App{App: testkit.Start(t, db, append(defaults, opts...)...), t: t}
}

// WithOnly starts the account modules (users and auth, so users can sign
// in) and the given modules, instead of every module: a module's tests then
// prove it needs nothing else.
func WithOnly(m ...fx.Option) testkit.Option {
	return testkit.WithModules(append(slices.Clone(modules.Accounts), m...)...)
}
