// Package modules is the application's list of feature modules. Adding a
// module to the application is its import and its entry in All.
//
// The file is shaped so that modules added on two branches merge without a
// conflict: .gitattributes merges it with git's union driver, which keeps
// the lines of both sides, and every module is one line of each kind. The
// imports are separate declarations because gofmt sorts the lines of a
// parenthesised block, and two lines in union order would then fail the
// format check.
package modules

import "go.uber.org/fx"

import "github.com/acme/monolith/modules/users"
import "github.com/acme/monolith/modules/auth"
import "github.com/acme/monolith/modules/audit"

// All is every feature module the application runs, in no particular order:
// fx resolves the dependencies between them.
var All = []fx.Option{
	users.Module,
	auth.Module,
	audit.Module,
}

// Accounts are the modules that sign users in: the least a test of a
// protected route needs beside the module under test (apptest.WithOnly).
var Accounts = []fx.Option{
	users.Module,
	auth.Module,
}
