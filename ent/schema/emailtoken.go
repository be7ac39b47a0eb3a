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

// EmailToken is a single-use, short-lived token mailed to prove control
// of an address: verifying an account's email, or confirming a change to
// a new one. Stored only as a SHA-256 hash, apart from password resets so
// that a token of one flow is never accepted by another. Owned by
// modules/auth.
type EmailToken struct {
	ent.Schema
}

// Annotations names the owning module.
func (EmailToken) Annotations() []schema.Annotation {
	return []schema.Annotation{ownership.Module("auth")}
}

// Fields of the EmailToken.
func (EmailToken) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable(),
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		// verify: the account's own address; change: a new address.
		field.Enum("purpose").Values("verify", "change").Immutable(),
		// The address the token was mailed to: verification applies only
		// while the account still has it; a change moves the account to it.
		field.String("email").MaxRuneLen(254).NotEmpty().Immutable().
			SchemaType(map[string]string{dialect.Postgres: "varchar(254)"}),
		field.String("token_hash").MaxLen(64).Immutable().Sensitive().
			SchemaType(map[string]string{dialect.Postgres: "char(64)"}),
		field.Time("created_at").Default(now).Immutable(),
		field.Time("expires_at").Immutable(),
		field.Time("used_at").Optional().Nillable(),
	}
}

// Indexes of the EmailToken.
func (EmailToken) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("token_hash").Unique(),
		index.Fields("user_id", "purpose"),
	}
}
