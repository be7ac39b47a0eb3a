package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"github.com/acme/monolith/platform/ownership"
)

// SigningKey is one key of the access-token key set. The private key is
// stored sealed with AES-256-GCM under JWT_KEY_ENCRYPTION_KEY, never in
// clear. Owned by modules/auth.
type SigningKey struct {
	ent.Schema
}

// Annotations names the owning module.
func (SigningKey) Annotations() []schema.Annotation {
	return []schema.Annotation{ownership.Module("auth")}
}

// Fields of the SigningKey.
func (SigningKey) Fields() []ent.Field {
	return []ent.Field{
		// id is the kid: the RFC 7638 thumbprint of the public key.
		field.String("id").MaxLen(64).NotEmpty().Immutable().
			SchemaType(map[string]string{dialect.Postgres: "varchar(64)"}),
		field.String("alg").MaxLen(16).Immutable().
			SchemaType(map[string]string{dialect.Postgres: "varchar(16)"}),
		// state is next (published, not signing yet), current (signing)
		// or retired (verifying until verify_until).
		field.Enum("state").Values("next", "current", "retired"),
		field.Bytes("private_sealed").Sensitive().Immutable(),
		field.Time("created_at").Default(now).Immutable(),
		field.Time("activated_at").Optional().Nillable(),
		field.Time("verify_until").Optional().Nillable(),
	}
}

// Indexes of the SigningKey.
func (SigningKey) Indexes() []ent.Index {
	return []ent.Index{index.Fields("state")}
}
