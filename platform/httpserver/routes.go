package httpserver

import (
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
