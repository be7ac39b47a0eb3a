package schema

import (
	"time"

	"github.com/acme/monolith/platform/entmixin"
)

// now is the timestamp default of the entities that declare their own
// time fields: the same clock as entmixin.Record's.
func now() time.Time { return entmixin.Now() }
