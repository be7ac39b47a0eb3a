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

// APIKey is a long-lived credential a user creates for scripts and
// services. Owned by modules/auth. Only the SHA-256 of the secret is
// stored. user_id is a plain column, not an edge: the users table belongs
// to another module, and every request loads the owner anyway (a deleted
// or deactivated owner's key stops working at once).
type APIKey struct {
	ent.Schema
}

// Annotations names the owning module.
func (APIKey) Annotations() []schema.Annotation {
	return []schema.Annotation{ownership.Module("auth")}
}

// Fields of the APIKey.
func (APIKey) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable(),
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		field.String("name").MaxRuneLen(100).NotEmpty().
			SchemaType(map[string]string{dialect.Postgres: "varchar(100)"}),
		// The start of the secret (its prefix and a few random
		// characters), shown in lists so the owner recognises a key.
		field.String("hint").MaxLen(32).Immutable().
			SchemaType(map[string]string{dialect.Postgres: "varchar(32)"}),
		// SHA-256 of the whole key, hex: the one indexed lookup.
		field.String("secret_hash").MaxLen(64).Immutable().Sensitive().
			SchemaType(map[string]string{dialect.Postgres: "char(64)"}),
		// Permission names, sorted: at most these, and at most what the
		// owner holds at the time of each request.
		field.Strings("permissions").Default([]string{}).Immutable(),
		field.Time("created_at").Default(now).Immutable(),
		field.Time("last_used_at").Optional().Nillable(),
		field.Time("expires_at").Immutable(),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

// Indexes of the APIKey.
func (APIKey) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("secret_hash").Unique(),
		index.Fields("user_id", "created_at"),
	}
}
