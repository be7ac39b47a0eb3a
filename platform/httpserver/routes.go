package httpserver

import (
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"go.uber.org/fx"
)

// Routes is what a module's api layer provides: it registers its operations
// on the shared API. Every Routes joins the "routes" value group, so a new
// module never edits a shared route file.
type Routes interface {
	Register(api huma.API)
}

// AsRoutes annotates a constructor of a Routes implementation for the group.
func AsRoutes(constructor any) any {
	return fx.Annotate(constructor, fx.As(new(Routes)), fx.ResultTags(`group:"routes"`))
}

// Mount is a plain net/http handler served under Prefix (the prefix itself
// and every path below it), outside the API document: an embedded tool
// with routes of its own, such as the jobs UI. The handler authenticates
// its requests itself; the server's edge (limits, security headers, access
// log, metrics) applies as to any route.
type Mount struct {
	Prefix  string
	Handler http.Handler
}

// Mounts are the platform's embedded tools, provided by the platform
// itself (one value, not a group: modules contribute Routes).
type Mounts []Mount
