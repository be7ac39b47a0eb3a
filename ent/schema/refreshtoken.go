package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	"github.com/acme/monolith/platform/ownership"
)

// RefreshToken is one member of a session's rotation chain, stored only as
// a SHA-256 hash. Owned by modules/auth.
type RefreshToken struct {
	ent.Schema
}

// Annotations names the owning module.
func (RefreshToken) Annotations() []schema.Annotation {
	return []schema.Annotation{ownership.Module("auth")}
}

// Fields of the RefreshToken.
func (RefreshToken) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable(),
		field.UUID("session_id", uuid.UUID{}).Immutable(),
		// hex SHA-256 of the opaque token: a database leak yields no usable token.
		field.String("token_hash").MaxLen(64).Immutable().Sensitive().
			SchemaType(map[string]string{dialect.Postgres: "char(64)"}),
		field.Time("created_at").Default(now).Immutable(),
		// rotated_at is set when the token is exchanged for its child.
		field.Time("rotated_at").Optional().Nillable(),
		// child_nonce derives the child token from this one, so a
		// concurrent refresh inside the grace window gets the same child.
		field.String("child_nonce").MaxLen(64).Optional().Sensitive().
			SchemaType(map[string]string{dialect.Postgres: "varchar(64)"}),
	}
}

// Indexes of the RefreshToken.
func (RefreshToken) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("token_hash").Unique(),
		index.Fields("session_id"),
	}
}
