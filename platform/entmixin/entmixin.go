// Package entmixin holds the ent mixins entities share, so that every
// table gets the same id and timestamps, which the list convention
// (platform/paging) sorts and pages by.
package entmixin

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"
	"github.com/google/uuid"
)

// Record gives an entity a random UUID id and created_at and updated_at
// timestamps, set by ent on create and update. Pair it with an index that
// ends with ("created_at", "id") when the entity is listed.
type Record struct {
	mixin.Schema
}

// Fields of every record.
func (Record) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable(),
		field.Time("created_at").Default(Now).Immutable(),
		field.Time("updated_at").Default(Now).UpdateDefault(Now),
	}
}

// Now is the current time in UTC, truncated to microseconds, the
// precision Postgres keeps, so a value read back equals the value written
// (and a cursor made from it finds its row again).
func Now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
