// Package schema holds the ent schemas, one file per entity. Each schema
// names its owning module with an ownership.Module annotation.
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

// User is an account. Owned by modules/users.
type User struct {
	ent.Schema
}

// Mixin gives the User its id and timestamps.
func (User) Mixin() []ent.Mixin {
	return []ent.Mixin{entmixin.Record{}}
}

// Annotations names the owning module.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{ownership.Module("users")}
}

// Fields of the User. Lengths are bounded in the database too, not only in
// Go, and counted in characters, as the API and Postgres's varchar count.
func (User) Fields() []ent.Field {
	return []ent.Field{
		// Stored lower-cased by the users service: uniqueness is case-insensitive.
		field.String("email").MaxRuneLen(254).NotEmpty().
			SchemaType(map[string]string{dialect.Postgres: "varchar(254)"}),
		field.String("full_name").MaxRuneLen(255).Default("").
			SchemaType(map[string]string{dialect.Postgres: "varchar(255)"}),
		field.String("password_hash").Sensitive().NotEmpty(),
		field.Bool("is_active").Default(true),
		// Deprecated: whether the account holds the admin role, kept in
		// step with its roles for one release so that replicas of the
		// previous release, which still read it, see what the roles say
		// during a rolling deploy (docs/security.md). Nothing reads it.
		field.Bool("is_superuser").Default(false),
		// A service account is a non-human principal: it holds roles like
		// any account but has no usable password; it acts only through
		// API keys an administrator creates for it. Last, so that SQLite
		// adds the column instead of rebuilding the table (a rebuild's
		// DROP would cascade to user_roles: PRAGMA foreign_keys cannot be
		// turned off inside the migration's transaction).
		field.Enum("kind").Values("user", "service").Default("user"),
		// authz_version counts the writes that change what the account
		// cache holds for this account (its columns, its roles); with the
		// roles' AuthzEpoch it tells every replica, in one primary-key
		// read, whether a cached account is still current. Last, for the
		// same reason as kind.
		field.Int64("authz_version").Default(0),
		// Whether the account's holder proved they receive mail at email
		// (a verification link, or a confirmed email change), and when.
		// Last, like kind and authz_version, so that SQLite adds the columns in place.
		field.Bool("email_verified").Default(false),
		field.Time("email_verified_at").Optional().Nillable(),
	}
}

// Edges of the User: the roles it holds (the user_roles join table; a
// deleted user's rows go with it).
func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("roles", Role.Type),
	}
}

// Indexes of the User.
func (User) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("email").Unique(),
		// Stable pagination order for the superuser listing.
		index.Fields("created_at", "id"),
	}
}
