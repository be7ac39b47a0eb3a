package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/acme/monolith/platform/entmixin"
	"github.com/acme/monolith/platform/ownership"
)

// Role is a named set of permissions that accounts are given. Owned by
// modules/users. The built-in admin role holds every permission as a flag
// (all_permissions), not a list, so it also holds those of modules added
// later.
type Role struct {
	ent.Schema
}

// Mixin gives the Role its id and timestamps.
func (Role) Mixin() []ent.Mixin {
	return []ent.Mixin{entmixin.Record{}}
}

// Annotations names the owning module.
func (Role) Annotations() []schema.Annotation {
	return []schema.Annotation{ownership.Module("users")}
}

// Fields of the Role. The name's length is in characters, as the API
// counts it.
func (Role) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").MaxRuneLen(64).NotEmpty().
			SchemaType(map[string]string{dialect.Postgres: "varchar(64)"}),
		// Permission names, sorted; ignored when all_permissions is set.
		field.Strings("permissions").Default([]string{}),
		field.Bool("all_permissions").Default(false),
		// Built-in roles cannot be renamed, emptied or deleted.
		field.Bool("builtin").Default(false),
	}
}

// Edges of the Role: the users holding it (the edge is the user's).
func (Role) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("users", User.Type).Ref("roles"),
	}
}

// Indexes of the Role.
func (Role) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("name").Unique(),
		// Stable pagination order for the role listing.
		index.Fields("created_at", "id"),
	}
}
