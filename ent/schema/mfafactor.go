package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"github.com/google/uuid"

	"github.com/acme/monolith/platform/ownership"
)

// MFAFactor is an account's TOTP second factor (RFC 6238). The shared
// secret is stored sealed with AES-256-GCM under JWT_KEY_ENCRYPTION_KEY,
// like the signing keys, never in clear. Owned by modules/auth; user_id
// is a plain column (the users table belongs to another module).
type MFAFactor struct {
	ent.Schema
}

// Annotations names the owning module and the table.
func (MFAFactor) Annotations() []schema.Annotation {
	return []schema.Annotation{ownership.Module("auth"), entsql.Annotation{Table: "mfa_factors"}}
}

// Fields of the MFAFactor.
func (MFAFactor) Fields() []ent.Field {
	return []ent.Field{
		field.UUID("id", uuid.UUID{}).Default(uuid.New).Immutable(),
		field.UUID("user_id", uuid.UUID{}).Immutable(),
		field.Bytes("secret_sealed").Sensitive().Immutable(),
		field.Time("created_at").Default(now).Immutable(),
		// confirmed_at is set by the first valid code: until then the
		// factor is a pending enrolment and sign-in ignores it.
		field.Time("confirmed_at").Optional().Nillable(),
		// last_step is the last TOTP time step accepted: a code of that
		// step or an earlier one is a replay.
		field.Int64("last_step").Default(0),
	}
}

// Indexes of the MFAFactor.
func (MFAFactor) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id").Unique()}
}
