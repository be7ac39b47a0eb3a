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

// PasswordReset is a single-use, short-lived password-reset token, stored
// only as a SHA-256 hash. Owned by modules/auth.
type PasswordReset struct {
	ent.Schema
}

// Annotations names the owning module.
func (PasswordReset) Annotations() []schema.Annotation {
	return []schema.Annotation{ownership.Module("auth")}
}

// Fields of the PasswordReset.
func (PasswordReset) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable(),
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		field.String("token_hash").MaxLen(64).Immutable().Sensitive().
			SchemaType(map[string]string{dialect.Postgres: "char(64)"}),
		field.Time("created_at").Default(now).Immutable(),
		field.Time("expires_at").Immutable(),
		field.Time("used_at").Optional().Nillable(),
	}
}

// Indexes of the PasswordReset.
func (PasswordReset) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("token_hash").Unique(),
		index.Fields("user_id"),
	}
}
