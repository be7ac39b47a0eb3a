// Package modules is the application's list of feature modules. Adding a
// module to the application is one line here.
package modules

import (
	"go.uber.org/fx"

	"github.com/acme/monolith/modules/auth"
	"github.com/acme/monolith/modules/users"
)

// All is every feature module the application runs, in no particular order:
// fx resolves the dependencies between them.
var All = []fx.Option{
	users.Module,
	auth.Module,
}

// Accounts are the modules that sign users in: the least a test of a
// protected route needs beside the module under test (testkit.WithOnly).
var Accounts = []fx.Option{
	users.Module,
	auth.Module,
}
