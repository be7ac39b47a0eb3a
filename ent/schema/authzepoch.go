package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"

	"github.com/acme/monolith/platform/ownership"
)

// AuthzEpoch is one counter (id 1) of the writes that change roles
// (permissions, names, deletion): they can change many accounts at once,
// so they advance this instead of every member's users.authz_version.
// The users store's account cache compares both, read in one statement,
// with what it cached. Owned by modules/users; written with an upsert
// ent cannot express, so no migration needs to seed the row.
type AuthzEpoch struct {
	ent.Schema
}

// Annotations names the owning module.
func (AuthzEpoch) Annotations() []schema.Annotation {
	return []schema.Annotation{ownership.Module("users"), entsql.Annotation{Table: "authz_epochs"}}
}

// Fields of the AuthzEpoch.
func (AuthzEpoch) Fields() []ent.Field {
	return []ent.Field{
		field.Int("id").Immutable(),
		field.Int64("version").Default(0),
	}
}
