package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	"github.com/acme/monolith/platform/ownership"
)

// MFARecoveryCode is one single-use recovery code of an account's second
// factor, stored only as a SHA-256 hash (each code has 120 random bits).
// Owned by modules/auth.
type MFARecoveryCode struct {
	ent.Schema
}

// Annotations names the owning module and the table.
func (MFARecoveryCode) Annotations() []schema.Annotation {
	return []schema.Annotation{ownership.Module("auth"), entsql.Annotation{Table: "mfa_recovery_codes"}}
}

// Fields of the MFARecoveryCode.
func (MFARecoveryCode) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable(),
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		field.String("code_hash").MaxLen(64).Immutable().Sensitive().
			SchemaType(map[string]string{dialect.Postgres: "char(64)"}),
		field.Time("created_at").Default(now).Immutable(),
		field.Time("used_at").Optional().Nillable(),
	}
}

// Indexes of the MFARecoveryCode.
func (MFARecoveryCode) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "code_hash").Unique()}
}
