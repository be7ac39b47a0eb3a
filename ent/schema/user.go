// Package schema holds the ent schemas, one file per entity. Each schema
// names its owning module with an ownership.Module annotation.
package schema

import (
	"time"

	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	"github.com/acme/monolith/platform/ownership"
)

// User is an account. Owned by modules/users.
type User struct {
	ent.Schema
}

// Annotations names the owning module.
func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{ownership.Module("users")}
}

// Fields of the User. Lengths are bounded in the database too, not only in Go.
func (User) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable(),
		// Stored lower-cased by the users service: uniqueness is case-insensitive.
		field.String("email").MaxLen(254).NotEmpty().
			SchemaType(map[string]string{dialect.Postgres: "varchar(254)"}),
		// Characters, not bytes: the API, the service and Postgres's varchar
		// all count characters.
		field.String("full_name").MaxRuneLen(255).Default("").
			SchemaType(map[string]string{dialect.Postgres: "varchar(255)"}),
		field.String("password_hash").Sensitive().NotEmpty(),
		field.Bool("is_active").Default(true),
		field.Bool("is_superuser").Default(false),
		field.Time("created_at").Default(now).Immutable(),
		field.Time("updated_at").Default(now).UpdateDefault(now),
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

// now is truncated to microseconds, the precision Postgres keeps, so a value
// read back equals the value written.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }
